// The builds: dist/sluice.min.js within the budget (6 KB min+gzip) and a
// working browser global (window.Sluice, run in a fresh context the way a
// <script> tag runs it) with the whole API of index.d.ts under its own
// names and the private ones (a leading _) shortened; dist/sluice.mjs
// exports the client; the version sent to the server is the package's.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import zlib from 'node:zlib';

import { build, PRIVATE } from '../build.mjs';
import { VERSION } from '../src/link.js';

const BUDGET = 6 * 1024;

const out = await build();

test(`min+gzip is at most ${BUDGET} bytes`, (t) => {
	const min = fs.readFileSync(out.min);
	const gz = zlib.gzipSync(min, { level: 9 }).length;
	t.diagnostic(`dist/sluice.min.js: ${min.length} bytes, ${gz} min+gzip`);
	assert.ok(gz <= BUDGET, `${gz} bytes min+gzip, over ${BUDGET}`);
});

test('the global build defines window.Sluice', async () => {
	const sockets = [];
	class FakeWebSocket {
		constructor(url) {
			this.url = url;
			this.readyState = 0;
			sockets.push(this);
		}

		close() {}
	}
	const window = { WebSocket: FakeWebSocket, TextEncoder, crypto,
	    setTimeout, clearTimeout, queueMicrotask, AbortSignal,
	    Promise, Date, Math, JSON, Object, Array, Set, Map, Error };
	window.window = window;
	const ctx = vm.createContext(window);
	vm.runInContext(fs.readFileSync(out.min, 'utf8'), ctx);
	assert.equal(typeof ctx.Sluice, 'function');
	assert.match(ctx.Sluice.uuid7(), /^[0-9a-f-]{36}$/);
	const s = vm.runInContext("new Sluice({ key: 'k1', " +
	    "wsUrl: 'ws://gw.test', storage: null })", ctx);
	assert.equal(s.state, 'connecting');
	assert.equal(sockets[0].url, 'ws://gw.test/app/k1?protocol=7' +
	    `&client=sluice-js&version=${VERSION}`);
	for (const name of ['track', 'page', 'identify', 'subscribe', 'join',
	    'trigger', 'flush', 'close', 'on'])
		assert.equal(typeof s[name], 'function', name);
	assert.equal(s.queued, 0);
	assert.equal(s.acked, 0);
	assert.equal(s.dropped, 0);
	assert.equal(s.user, null);
	const off = s.subscribe('game-1', () => {});
	assert.equal(typeof off, 'function');
	off();
	const arena = s.join('presence-arena', {});
	assert.equal(arena.name, 'presence-arena');
	assert.equal(arena.subscribed, false);
	assert.equal(arena.members.size, 0);
	assert.equal(arena.me, null);
	assert.equal(arena.trigger('client-move', {}), false);
	assert.throws(() => s.trigger('presence-arena', 'move', {}),
	    { code: 'client_event' });
	arena.leave();
	await s.close();
	assert.equal(s.state, 'closed');
	await assert.rejects(s.track('click'), { code: 'closed' });
});

test('private names are shortened in the minified build', () => {
	const min = fs.readFileSync(out.min, 'utf8');
	const src = fs.readdirSync(new URL('../src/', import.meta.url))
	    .map((f) => fs.readFileSync(new URL(`../src/${f}`,
	    import.meta.url), 'utf8')).join('\n');
	const names = new Set(src.match(/(?<=\.)_[A-Za-z]\w*/g));
	assert.ok(names.size > 20, `only ${names.size} private names`);
	for (const name of names) {
		assert.match(name, PRIVATE);
		assert.ok(!new RegExp(`\\b${name}\\b`).test(min),
		    `${name} is in dist/sluice.min.js`);
	}
});

test('the module build exports the client', async () => {
	const m = await import(pathToFileURL(out.esm).href);
	assert.equal(typeof m.Sluice, 'function');
	assert.equal(m.default, m.Sluice);
	assert.match(m.uuid7(), /^[0-9a-f-]{36}$/);
	assert.deepEqual(Object.keys(m).sort(), ['Sluice', 'default', 'uuid7']);
});

test('the version sent is the package\'s', () => {
	const pkg = JSON.parse(fs.readFileSync(new URL('../package.json',
	    import.meta.url)));
	assert.equal(VERSION, pkg.version);
});
