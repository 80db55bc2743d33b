// 03-status: every status code of the HTTP API, and that every error body
// is JSON naming the problem; chunked bodies and Transfer-Encoding spoken
// over raw sockets.

import assert from 'node:assert/strict';
import net from 'node:net';
import zlib from 'node:zlib';
import { after, describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	closedPortUrl, get, post, request, startSluiced, waitFor,
} from '../lib/sluiced.mjs';

// Small limits so the 413s are cheap to reach.
const LIMITS = {
	max_event_bytes: '1K',
	max_request_bytes: '4K',
	max_events_per_request: 10,
};

const { s, broker } = useSluiced({ name: 'status', limits: LIMITS,
    waitReady: true }, { purgeEach: ['queue'] });

// Asserts an error reply: status, JSON {error: code, message: "..."}.
function assertError(r, status, code) {
	assert.equal(r.status, status, `expected ${status}, got ${r.status}: ` +
	    r.text);
	assert.match(r.headers['content-type'] || '', /^application\/json/);
	assert.ok(r.json && typeof r.json === 'object', `not JSON: ${r.text}`);
	assert.equal(r.json.error, code, r.text);
	assert.equal(typeof r.json.message, 'string');
	assert.ok(r.json.message.length > 0);
}

// Sends a request over a raw socket: head (the request line and headers,
// without the blank line) and then each of parts. Resolves {status, json,
// text} of the reply read until the server closes, or rejects with what
// happened instead (a reset, no answer in timeout ms).
function rawRequest(port, head, parts = [], { timeout = 15000 } = {}) {
	return new Promise((resolve, reject) => {
		const got = [];
		const sock = net.connect({ host: '127.0.0.1', port });
		const timer = setTimeout(() => {
			sock.destroy();
			reject(new Error(`no answer in ${timeout} ms`));
		}, timeout);
		sock.on('connect', async () => {
			sock.write(`${head}\r\n\r\n`);
			for (const p of parts) {
				if (sock.destroyed)
					return;
				if (!sock.write(p))
					await new Promise((r) => sock.once('drain', r));
			}
		});
		sock.on('data', (d) => got.push(d));
		sock.on('error', (e) => {
			clearTimeout(timer);
			reject(new Error(`${e.code || e.message} after ` +
			    `${Buffer.concat(got).length} bytes of reply`));
		});
		sock.on('close', () => {
			clearTimeout(timer);
			const text = Buffer.concat(got).toString('utf8');
			const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
			const body = text.slice(text.indexOf('\r\n\r\n') + 4);
			let json;
			try {
				json = JSON.parse(body);
			} catch {
				json = undefined;
			}
			resolve({ status: m ? Number(m[1]) : null, json, text });
		});
	});
}

// A chunk of chunked transfer coding holding data.
function chunk(data) {
	return `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
}

describe('2xx', () => {
	it('202 when every event is accepted', async () => {
		const r = await post(s.url, [{ event: 'a' }, { event: 'b' }],
		    { key: s.key });
		assert.equal(r.status, 202);
		assert.equal(r.json.accepted, 2);
		assert.equal(r.json.ids.length, 2);
		assert.equal(r.json.errors, undefined);
		await broker.collect(s.names.queue, 2);
	});

	it('207 with both lists when some events are invalid', async () => {
		const r = await post(s.url, [
			{ event: 'good1' },
			{ event: '' },
			{ event: 'x', bogus: 1 },
			{ data: 1 },
			{ event: 'x', channel: 'forbidden' },
			{ event: 'x', timestamp: 'yesterday' },
			{ event: 'good2', id: 'keep-me' },
		], { key: s.key });
		assert.equal(r.status, 207, r.text);
		assert.equal(r.json.accepted, 2);
		assert.equal(r.json.ids.length, 2);
		assert.equal(r.json.ids[1], 'keep-me');
		const errors = r.json.errors;
		assert.deepEqual(errors.map((e) => [e.index, e.code]), [
			[1, 'invalid_event_name'],
			[2, 'unknown_field'],
			[3, 'missing_event'],
			[4, 'channel_not_allowed'],
			[5, 'invalid_timestamp'],
		]);
		for (const e of errors)
			assert.ok(typeof e.message === 'string' && e.message !== '');
		assert.match(errors[1].message, /bogus/);
		// The valid ones were journaled and forwarded.
		const msgs = await broker.collect(s.names.queue, 2);
		assert.deepEqual(msgs.map((m) => m.body.id).sort(),
		    [...r.json.ids].sort());
	});
});

describe('400', () => {
	// No body is sent: the answer must come without one (before, the
	// server read until the client closed). A body sent along would race
	// the close that follows the 400: the unread bytes make the kernel
	// reset the connection, which can drop the reply before it is read.
	for (const te of ['gzip', 'identity', 'gzip, chunked', 'chunked, gzip'])
		it(`Transfer-Encoding: ${te}: 400 at once`, async () => {
			const r = await rawRequest(s.port, 'POST /v1/events ' +
			    `HTTP/1.1\r\nHost: x\r\nX-Sluice-Key: ${s.key}\r\n` +
			    'Content-Type: application/json\r\n' +
			    `Transfer-Encoding: ${te}`, [], { timeout: 5000 });
			assert.equal(r.status, 400, r.text);
			assert.equal(r.json.error, 'unsupported_transfer_encoding',
			    r.text);
			assert.ok(r.json.message.includes(te), r.text);
		});

	it('a second Transfer-Encoding header counts too; GET as well',
	    async () => {
		let r = await rawRequest(s.port, 'POST /v1/events HTTP/1.1\r\n' +
		    `Host: x\r\nX-Sluice-Key: ${s.key}\r\n` +
		    'Content-Type: application/json\r\n' +
		    'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip',
		    [], { timeout: 5000 });
		assert.equal(r.status, 400, r.text);
		r = await rawRequest(s.port, 'GET /healthz HTTP/1.1\r\nHost: x' +
		    '\r\nTransfer-Encoding: gzip', [], { timeout: 5000 });
		assert.equal(r.status, 400, r.text);
		assert.equal(r.json.error, 'unsupported_transfer_encoding');
	});

	it('invalid JSON', async () => {
		for (const body of ['{"event":', '{"event": "a"} trailing',
		    '{event: "a"}', '']) {
			const r = await post(s.url, body, { key: s.key });
			assertError(r, 400, 'invalid_json');
		}
	});

	it('JSON of the wrong shape', async () => {
		for (const body of ['"a string"', '42', 'null', '{"batch": 5}',
		    'true']) {
			const r = await post(s.url, body, { key: s.key });
			assertError(r, 400, 'invalid_body');
		}
	});

	it('no events at all', async () => {
		for (const body of ['[]', '{"batch": []}']) {
			const r = await post(s.url, body, { key: s.key });
			assertError(r, 400, 'no_events');
		}
	});

	it('no valid event: 400 with every rejection', async () => {
		const r = await post(s.url, [{}, { event: 5 }, 'x',
		    { event: 'pusher:subscribe' }], { key: s.key });
		assertError(r, 400, 'invalid_events');
		assert.equal(r.json.accepted, 0);
		assert.deepEqual(r.json.ids, []);
		assert.deepEqual(r.json.errors.map((e) => [e.index, e.code]), [
			[0, 'missing_event'],
			[1, 'invalid_event_name'],
			[2, 'not_object'],
			[3, 'invalid_event_name'],
		]);
		assert.equal(await broker.count(s.names.queue), 0);
	});

	it('a single invalid event', async () => {
		const r = await post(s.url, { event: 'x'.repeat(201) },
		    { key: s.key });
		assertError(r, 400, 'invalid_events');
		assert.equal(r.json.errors[0].code, 'invalid_event_name');
	});
});

describe('401 and 403', () => {
	it('401 without a key', async () => {
		const r = await post(s.url, { event: 'a' });
		assertError(r, 401, 'missing_key');
	});

	it('401 with an unknown key in the header', async () => {
		const r = await post(s.url, { event: 'a' }, { key: 'nope-nope-1' });
		assertError(r, 401, 'unknown_key');
	});

	it('401 with an unknown key in ?key=', async () => {
		const r = await post(`${s.url}?key=nope-nope-1`, { event: 'a' });
		assertError(r, 401, 'unknown_key');
	});

	it('202 with the right key in ?key=', async () => {
		const r = await post(`${s.url}?key=${s.key}`, { event: 'q' });
		assert.equal(r.status, 202);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.id, r.json.ids[0]);
	});

	it('403 when the origin is not allowed', async () => {
		const r = await post(s.url, { event: 'a' }, { key: s.key,
		    headers: { Origin: 'https://evil.example' } });
		assertError(r, 403, 'origin_not_allowed');
		assert.equal(r.headers['access-control-allow-origin'], undefined);
		assert.equal(await broker.count(s.names.queue), 0);
	});
});

describe('404 and 405', () => {
	it('404 for an unknown path, whatever the method', async () => {
		for (const [method, path] of [['GET', '/nope'], ['POST', '/v1/event'],
		    ['GET', '/v1/events/x'], ['DELETE', '/']]) {
			const r = await request(method, `${s.baseUrl}${path}`);
			assertError(r, 404, 'not_found');
		}
	});

	it('405 with Allow for a wrong method', async () => {
		const cases = [
			['GET', '/v1/events', 'POST, OPTIONS'],
			['PUT', '/v1/events', 'POST, OPTIONS'],
			['POST', '/healthz', 'GET, HEAD'],
			['DELETE', '/metrics', 'GET, HEAD'],
			['POST', '/readyz', 'GET, HEAD'],
		];
		for (const [method, path, allow] of cases) {
			const r = await request(method, `${s.baseUrl}${path}`);
			assertError(r, 405, 'method_not_allowed');
			assert.equal(r.headers.allow, allow);
		}
	});
});

describe('413', () => {
	it('a body over max_request_bytes by its Content-Length', async () => {
		const body = JSON.stringify([{ event: 'a', data: 'x'.repeat(900) },
		    { event: 'a', data: 'x'.repeat(900) },
		    { event: 'a', data: 'x'.repeat(900) },
		    { event: 'a', data: 'x'.repeat(900) },
		    { event: 'a', data: 'x'.repeat(900) }]);
		assert.ok(body.length > 4096);
		const r = await post(s.url, body, { key: s.key });
		assertError(r, 413, 'request_too_large');
	});

	it('a chunked body over max_request_bytes', async () => {
		const body = JSON.stringify({ event: 'a', data: 'y'.repeat(6000) });
		const r = await post(s.url, body, { key: s.key, chunks: 6 });
		assertError(r, 413, 'request_too_large');
		// The daemon is fine afterwards.
		const ok = await post(s.url, { event: 'after' }, { key: s.key });
		assert.equal(ok.status, 202);
		await broker.collect(s.names.queue, 1);
	});

	it('a chunked body many times max_request_bytes: 413, not a reset',
	    async () => {
		// 1 MB in 16K chunks over a raw socket: 256 times the limit.
		const piece = chunk('x'.repeat(16384));
		const parts = [chunk('{"event":"a","data":"')];
		for (let i = 0; i < 64; i++)
			parts.push(piece);
		parts.push(chunk('"}'), '0\r\n\r\n');
		const r = await rawRequest(s.port, 'POST /v1/events HTTP/1.1\r\n' +
		    `Host: x\r\nX-Sluice-Key: ${s.key}\r\n` +
		    'Content-Type: application/json\r\nConnection: close\r\n' +
		    'Transfer-Encoding: chunked', parts);
		assert.equal(r.status, 413, r.text.slice(0, 300));
		assert.equal(r.json.error, 'request_too_large', r.text);
		assert.match(r.json.message, /limit of 4096 bytes/);
		const ok = await post(s.url, { event: 'after' }, { key: s.key });
		assert.equal(ok.status, 202);
		await broker.collect(s.names.queue, 1);
	});

	it('a chunked body under the limit is accepted', async () => {
		const body = JSON.stringify({ event: 'chunky', data: 'z'.repeat(800) });
		const r = await post(s.url, body, { key: s.key, chunks: 4 });
		assert.equal(r.status, 202, r.text);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.data, 'z'.repeat(800));
	});

	it('an event over max_event_bytes alone: 413', async () => {
		const r = await post(s.url, { event: 'big', data: 'x'.repeat(1100) },
		    { key: s.key });
		assertError(r, 413, 'event_too_large');
		assert.equal(r.json.errors[0].code, 'event_too_large');
	});

	it('an event over max_event_bytes among good ones: 207', async () => {
		const r = await post(s.url, [{ event: 'ok' },
		    { event: 'big', data: 'x'.repeat(1100) }], { key: s.key });
		assert.equal(r.status, 207, r.text);
		assert.deepEqual(r.json.errors.map((e) => [e.index, e.code]),
		    [[1, 'event_too_large']]);
		await broker.collect(s.names.queue, 1);
	});

	it('more events than max_events_per_request', async () => {
		const events = Array.from({ length: 11 }, () => ({ event: 'n' }));
		const r = await post(s.url, events, { key: s.key });
		assertError(r, 413, 'too_many_events');
		const ten = await post(s.url, events.slice(1), { key: s.key });
		assert.equal(ten.status, 202);
		await broker.collect(s.names.queue, 10);
	});

	it('a gzip bomb', async () => {
		// A 3 MB event squeezed under the 4K body limit.
		const bomb = zlib.gzipSync(Buffer.concat([
		    Buffer.from('{"event":"bomb","data":"'),
		    Buffer.alloc(3 << 20, 0x61), Buffer.from('"}')]),
		    { level: 9 });
		assert.ok(bomb.length < 4096, `bomb is ${bomb.length} bytes`);
		const r = await post(s.url, bomb, { key: s.key, headers: {
		    'Content-Encoding': 'gzip' } });
		assertError(r, 413, 'request_too_large');
		assert.equal((await get(`${s.baseUrl}/healthz`)).status, 200);
	});
});

describe('415', () => {
	it('a content type other than JSON or text', async () => {
		for (const type of ['text/html', 'application/x-www-form-urlencoded',
		    'multipart/form-data; boundary=x', 'application/jsonx']) {
			const r = await post(s.url, { event: 'a' }, { key: s.key,
			    contentType: type });
			assertError(r, 415, 'unsupported_content_type');
		}
	});

	it('no content type', async () => {
		const r = await post(s.url, { event: 'a' }, { key: s.key,
		    contentType: null });
		assertError(r, 415, 'unsupported_content_type');
	});

	it('a content encoding other than gzip', async () => {
		for (const enc of ['br', 'deflate', 'compress']) {
			const r = await post(s.url, { event: 'a' }, { key: s.key,
			    headers: { 'Content-Encoding': enc } });
			assertError(r, 415, 'unsupported_content_encoding');
		}
	});

	it('parameters of the content type are ignored', async () => {
		const r = await post(s.url, { event: 'charset' }, { key: s.key,
		    contentType: 'application/json; charset=utf-8' });
		assert.equal(r.status, 202);
		await broker.collect(s.names.queue, 1);
	});
});

describe('503', () => {
	let full;
	after(async () => {
		if (full)
			await full.stop();
	});

	it('the journal is full: 503 with Retry-After, nothing lost', async () => {
		// No broker: nothing is ever confirmed, so the journal fills.
		full = await startSluiced({ name: 'full', names: s.names,
		    amqpUrl: await closedPortUrl(),
		    journal: { max_bytes: '128K', segment_bytes: '64K' },
		    server: { shutdown_timeout: 1 } });
		const ids = [];
		let r;
		const batch = Array.from({ length: 20 }, (_, i) => ({
		    event: 'fill', data: { i, pad: 'p'.repeat(500) } }));
		for (let n = 0; n < 100; n++) {
			r = await post(full.url, batch, { key: full.key });
			if (r.status !== 202)
				break;
			ids.push(...r.json.ids);
		}
		assertError(r, 503, 'journal_full');
		assert.match(r.headers['retry-after'] || '', /^\d+$/);
		assert.ok(ids.length > 0, 'nothing fit in the journal');
		// A smaller request that fits would still be taken: 503 is
		// about room, and the daemon stays alive and honest.
		const ready = await get(`${full.baseUrl}/readyz`);
		assert.equal(ready.status, 503);
		assert.equal(ready.json.ready, false);
		assert.equal(typeof ready.json.reason, 'string');
		// With the broker back, every accepted event arrives.
		await full.restart({ amqpUrl: undefined });
		const got = await broker.collectIds(s.names.queue, ids,
		    { timeout: 20000 });
		assert.deepEqual(got.missing, []);
		// And there is room again.
		await waitFor(async () => (await post(full.url, batch,
		    { key: full.key })).status === 202, { timeout: 10000,
		    what: 'a 202 once the journal drained' });
	});
});
