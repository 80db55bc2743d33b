// test/integration/lib.mjs: what the integration tests of the client share:
// the ws package's WebSocket (this package's, or the one tests/ installs),
// a Storage in memory (what localStorage is to a page: it outlives the
// client instances that use it), and a client on a real sluiced.

import { createRequire } from 'node:module';

import { Sluice } from '../../src/index.js';
import { MemStorage } from '../fakes.mjs';

export { MemStorage, Sluice };

function loadWs() {
	for (const from of [import.meta.url,
	    new URL('../../../tests/lib/ws.mjs', import.meta.url)]) {
		try {
			return createRequire(from)('ws');
		} catch {
			// not installed there
		}
	}
	throw new Error('the ws package is not installed (npm ci in client-js ' +
	    'or tests)');
}

export const WebSocket = loadWs();

export const UUID7 =
    /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/*
 * A client of daemon handle s (see tests/lib/sluiced.mjs) over the ws
 * package, with storage (default: a new MemStorage) and the options given.
 * Its errors are kept in .errors.
 */
export function client(s, opts = {}) {
	const c = new Sluice({
		key: s.key,
		wsUrl: s.wsUrl,
		httpUrl: s.baseUrl,
		WebSocket,
		storage: new MemStorage(),
		window: {},
		reconnectMin: 100,
		reconnectMax: 1000,
		...opts,
	});
	c.errors = [];
	c.on('error', (e) => c.errors.push(e));
	return c;
}
