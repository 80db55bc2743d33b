// 08-shutdown: a request whose body is still arriving when SIGTERM comes
// is answered 503 "stopping" (not journaled behind the server's back),
// and the daemon still exits 0.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { sleep } from '../lib/sluiced.mjs';

// The test starts (and stops) its daemon; after() deletes its topology.
const { broker, start } = useSluiced(null);

// Sends head and the first part of the body; returns the socket and a
// promise of everything the server sends back.
function startRequest(port, key, body, firstPart) {
	const sock = net.connect(port, '127.0.0.1');
	const reply = new Promise((resolve) => {
		const parts = [];
		sock.on('data', (d) => parts.push(d));
		sock.on('error', () => {});
		sock.on('close', () => resolve(Buffer.concat(parts).toString()));
	});
	sock.write(`POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
	    `X-Sluice-Key: ${key}\r\nContent-Type: application/json\r\n` +
	    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
	    `Connection: close\r\n\r\n`);
	sock.write(body.slice(0, firstPart));
	return { sock, reply };
}

describe('shutdown', () => {
	it('a body finished after SIGTERM gets 503 stopping; exit 0',
	    async (t) => {
		const s = await start({ name: 'shutdown', waitReady: true });
		const id = randomUUID();
		const body = JSON.stringify({ id, event: 'late',
		    data: { pad: 'x'.repeat(200) } });
		const { sock, reply } = startRequest(s.port, s.key, body, 50);
		await sleep(150);	// the headers are in: past the first check
		s.proc.kill('SIGTERM');
		await sleep(50);
		sock.end(body.slice(50));
		const text = await reply;
		t.diagnostic(`reply: ${text.split('\r\n')[0] || 'none (closed)'}`);
		const code = await s.stop();
		assert.equal(code, 0, `exit ${code}; log:\n${s.log()}`);
		// The server may have closed before answering; if it answered,
		// it said stopping, and the event was not taken.
		if (text !== '') {
			assert.match(text, /^HTTP\/1\.1 503 /, text);
			assert.match(text, /"error":"stopping"/);
			assert.match(text, /Retry-After: \d+/i);
		}
		assert.equal(await broker.count(s.names.queue), 0);
	});
});
