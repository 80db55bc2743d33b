// 23-client-text: what clients send goes on unaltered or is refused with
// a reason: integers outside 64 bits reach RabbitMQ with the digits sent
// (POST /v1/events and sluice:publish); invalid UTF-8 in data (overlong
// forms, raw surrogates, past U+10FFFF) is refused per event with
// invalid_data and never reaches RabbitMQ; a refused Origin full of
// control bytes is logged escaped.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { post, waitFor } from '../lib/sluiced.mjs';
import { connect } from '../lib/ws.mjs';

const { s, broker } = useSluiced({ name: 'client-text', waitWs: true,
    waitReady: true }, { purgeEach: ['queue'] });

const BIG = ['123456789012345678901234567890',
    '-123456789012345678901234567890', '18446744073709551616',
    '-9223372036854775809', '9'.repeat(400)];

// The JSON text of the envelope's data, as RabbitMQ holds it (JSON.parse
// would round the numbers this is about).
function rawData(m) {
	const from = m.raw.indexOf(',"data":') + ',"data":'.length;
	const to = m.raw.indexOf(',"received_at":');
	assert.ok(from > 8 && to > from, m.raw.slice(0, 300));
	return m.raw.slice(from, to);
}

// Checks that nothing reached the queue: a marker posted now is next.
async function assertNothingQueued() {
	const r = await post(s.url, { event: 'marker' }, { key: s.key });
	assert.equal(r.status, 202, r.text);
	const [m] = await broker.collect(s.names.queue, 1);
	assert.equal(m.body.id, r.json.ids[0], 'another event reached ' +
	    `RabbitMQ before the marker: ${m.raw.slice(0, 300)}`);
}

describe('integers outside 64 bits', () => {
	it('POST: RabbitMQ receives exactly the digits sent', async () => {
		const text = '[' + BIG.map((n, i) => `{"event":"big",` +
		    `"id":"big-${i}","data":{"n":${n},"list":[1,${n}]}}`)
		    .join(',') + ']';
		const r = await post(s.url, text, { key: s.key });
		assert.equal(r.status, 202, r.text);
		const got = await broker.collect(s.names.queue, BIG.length);
		for (const m of got) {
			const i = Number(m.body.id.slice(4));
			assert.equal(rawData(m), `{"n":${BIG[i]},"list":` +
			    `[1,${BIG[i]}]}`);
		}
	});

	it('sluice:publish: RabbitMQ receives exactly the digits sent',
	    async () => {
		const c = await connect(s);
		try {
			const events = BIG.map((n, i) => `{"event":"big",` +
			    `"id":"ws-big-${i}","data":[${n}]}`).join(',');
			await new Promise((resolve, reject) => c.ws.send(
			    `{"event":"sluice:publish","data":{"ref":"big",` +
			    `"events":[${events}]}}`, (e) => e ? reject(e) :
			    resolve()));
			const r = await c.reply('big');
			assert.equal(r.event, 'sluice:ack', r.raw);
			const got = await broker.collect(s.names.queue,
			    BIG.length);
			for (const m of got) {
				const i = Number(m.body.id.slice(7));
				assert.equal(rawData(m), `[${BIG[i]}]`);
			}
		} finally {
			await c.close();
		}
	});

	it('a timestamp outside 64 bits is refused, not clamped', async () => {
		const r = await post(s.url, '{"event":"t","timestamp":' +
		    '-123456789012345678901234567890}', { key: s.key });
		assert.equal(r.status, 400, r.text);
		assert.equal(r.json.errors[0].code, 'invalid_timestamp');
		await assertNothingQueued();
	});
});

describe('invalid UTF-8 in data', () => {
	const bad = [
		['an overlong form', [0xc0, 0xaf]],
		['a raw surrogate', [0xed, 0xa0, 0x80]],
		['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
	];
	for (const [what, bytes] of bad) {
		it(`POST: ${what} in a string or a key: invalid_data for that ` +
		    'event only, nothing of it in RabbitMQ', async () => {
			const body = Buffer.concat([
				Buffer.from('[{"event":"ok","id":"good"},' +
				    '{"event":"a","data":{"user":{"name":"x'),
				Buffer.from(bytes),
				Buffer.from('"}}},{"event":"b","data":{"k'),
				Buffer.from(bytes),
				Buffer.from('":1}}]'),
			]);
			const r = await post(s.url, body, { key: s.key });
			assert.equal(r.status, 207, r.text);
			assert.deepEqual(r.json.ids, ['good']);
			assert.deepEqual(r.json.errors.map((e) => [e.index,
			    e.code]), [[1, 'invalid_data'], [2, 'invalid_data']]);
			assert.equal(r.json.errors[0].message,
			    'data.user.name: not valid UTF-8');
			assert.match(r.json.errors[1].message,
			    /^data\.k\?+: a key that is not valid UTF-8$/);
			// The reply is valid UTF-8: it echoes none of the bytes.
			assert.equal(Buffer.from(r.text, 'utf8').toString('utf8'),
			    r.text);
			assert.ok(!r.text.includes('\ufffd'));
			const [m] = await broker.collect(s.names.queue, 1);
			assert.equal(m.body.id, 'good');
			await assertNothingQueued();
		});
	}

	it('POST: one bad event alone gets 400 with its code', async () => {
		const body = Buffer.concat([Buffer.from('{"event":"a","data":"'),
		    Buffer.from([0xed, 0xbf, 0xbf]), Buffer.from('"}')]);
		const r = await post(s.url, body, { key: s.key });
		assert.equal(r.status, 400, r.text);
		assert.deepEqual(r.json.errors, [{ index: 0, code: 'invalid_data',
		    message: 'data: not valid UTF-8' }]);
		await assertNothingQueued();
	});

	it('sluice:publish: a text frame of invalid UTF-8 is refused by the ' +
	    'WebSocket layer, and nothing is queued', async () => {
		const c = await connect(s);
		const frame = Buffer.concat([Buffer.from('{"event":' +
		    '"sluice:publish","data":{"ref":"u","events":[{"event":' +
		    '"a","data":"'), Buffer.from([0xc0, 0xaf]),
		    Buffer.from('"}]}}')]);
		c.ws.send(frame, { binary: false });
		const closed = await c.waitClose();
		assert.equal(closed.code, 1007);
		await assertNothingQueued();
	});
});

describe('logs', () => {
	it('a refused Origin with ESC and BEL is logged escaped', async () => {
		const origin = 'http://evil\x1b[31m\x07.example';
		const reply = await new Promise((resolve, reject) => {
			const sock = net.connect(s.wsPort, '127.0.0.1', () => {
				sock.write(`GET /app/${s.key}?protocol=7 HTTP/1.1\r\n` +
				    `Host: 127.0.0.1:${s.wsPort}\r\n` +
				    'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
				    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
				    'Sec-WebSocket-Version: 13\r\n' +
				    `Origin: ${origin}\r\n\r\n`, 'latin1');
			});
			let got = '';
			sock.on('data', (d) => {
				got += d.toString('latin1');
				if (got.includes('\r\n\r\n'))
					sock.end();
			});
			sock.on('end', () => resolve(got));
			sock.on('close', () => resolve(got));
			sock.on('error', reject);
		});
		assert.match(reply, /^HTTP\/1\.[01] 403/);
		const want = 'origin http://evil\\x1b[31m\\x07.example refused';
		await waitFor(() => s.log().includes(want),
		    { what: `"${want}" in the log:\n${s.log()}` });
		assert.ok(!/[\x07\x1b]/.test(s.log()), 'raw control bytes ' +
		    'in the log');
	});
});
