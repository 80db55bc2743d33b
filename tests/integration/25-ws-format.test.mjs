// 25-ws-format: what a subscriber receives, byte for byte, over the raw
// protocol. By default an event's data as published, as Pusher sends it: a
// JSON string as it is, any other JSON value serialized once into a string,
// from POST /v1/events and from sluice:publish alike. The whole envelope
// for a connection that asks for it, by the format query argument or by
// sluice:options (both formats side by side, a switch back, errors for an
// unknown format or option). Each event is encoded once per format, and
// the envelope only while a connection takes it (the metrics say so), and
// always for a cache channel, whose last event waits for subscribers of
// either format. A disabled app's connections get 4003 and its events 403.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, metrics, post, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, connectRefused } from '../lib/ws.mjs';

const APP = { ...TEST_APP, publish_channels: [...TEST_APP.publish_channels,
    'c', 'cache-*'], public_channels: [...TEST_APP.public_channels, 'c',
    'cache-*'] };
const DISABLED = { id: 'off', key: 'off-key', secret: 'off-secret-0123456789',
    origins: ['https://allowed.example'], publish_channels: ['c'],
    public_channels: ['c'], enabled: 'no' };

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const { s, start } = useSluiced({ name: 'ws-format', waitWs: true,
    apps: [APP, DISABLED] });

async function postOk(d, events, { key = APP.key } = {}) {
	const r = await post(d.url, events, { key });
	assert.equal(r.status, 202, r.text);
	return r.json.ids;
}

// The next event frame on channel c (not pusher ones) that c gets.
function nextEvent(client, { timeout = 15000 } = {}) {
	return client.next((m) => m.channel === 'c' &&
	    !m.event.startsWith('pusher'), { timeout });
}

// Asserts m is the envelope frame of the event id published as data.
function assertEnvelope(m, { id, event, data, source }) {
	assert.equal(m.envelope, true, m.raw);
	assert.equal(m.event, event);
	assert.equal(m.channel, 'c');
	assert.equal(typeof m.data, 'string', m.raw);
	assert.deepEqual(Object.keys(m).sort(), ['channel', 'data', 'envelope',
	    'event', 'payload', 'raw']);
	assert.equal(m.payload.id, id);
	assert.equal(m.payload.app, APP.id);
	assert.equal(m.payload.channel, 'c');
	assert.equal(m.payload.event, event);
	assert.deepEqual(m.payload.data, data);
	assert.equal(m.payload.source, source);
	assert.match(m.payload.received_at, ISO_MS);
}

describe('the default format: data as published', () => {
	it('{"message":"hello"} arrives as that text, in a string', async () => {
		const c = await connect(s);
		try {
			await c.mustSubscribe('c');
			await postOk(s, { event: 'greeting', channel: 'c',
			    data: { message: 'hello' } });
			const m = await nextEvent(c);
			assert.equal(m.raw, '{"event":"greeting","channel":"c",' +
			    '"data":"{\\"message\\":\\"hello\\"}"}');
		} finally {
			await c.close();
		}
	});

	it('every JSON type: a string as it is, others serialized once',
	    async () => {
		const cases = [
			['hello', '"hello"'],
			['{"a":1}', '"{\\"a\\":1}"'],
			['', '""'],
			['q"\\\n\u00e9\u2603\u0001', '"q\\"\\\\\\n\u00e9\u2603\\u0001"'],
			[42, '"42"'],
			[-1.5, '"-1.5"'],
			[[1, 'two', null], '"[1,\\"two\\",null]"'],
			[null, '"null"'],
			[false, '"false"'],
			[{ a: { b: ['c'] } }, '"{\\"a\\":{\\"b\\":[\\"c\\"]}}"'],
		];
		const c = await connect(s);
		try {
			await c.mustSubscribe('c');
			await postOk(s, cases.map(([data], i) => ({
			    event: `t${i}`, channel: 'c', data })));
			// No data: null, as in the envelope.
			await postOk(s, { event: 'bare', channel: 'c' });
			for (const [i, [data, text]] of cases.entries()) {
				const m = await nextEvent(c);
				assert.equal(m.raw, `{"event":"t${i}","channel":"c",` +
				    `"data":${text}}`);
				// A string comes back as it was; anything else as
				// its JSON text.
				assert.equal(m.data, typeof data === 'string' ? data :
				    JSON.stringify(data));
			}
			const m = await nextEvent(c);
			assert.equal(m.raw, '{"event":"bare","channel":"c",' +
			    '"data":"null"}');
		} finally {
			await c.close();
		}
	});
});

describe('sluice:publish events', () => {
	it('reach both formats: data as published, and the envelope',
	    async () => {
		const plain = await connect(s);
		const full = await connect(s, { format: 'envelope' });
		const pub = await connect(s);
		try {
			await plain.mustSubscribe('c');
			await full.mustSubscribe('c');
			const r = await pub.publish('both', [
				{ event: 'obj', channel: 'c', data: { n: 1 } },
				{ event: 'str', channel: 'c', data: 'text' },
			]);
			assert.equal(r.event, 'sluice:ack', r.raw);
			const [id1, id2] = r.payload.ids;
			const a = await nextEvent(plain);
			const b = await nextEvent(plain);
			assert.equal(a.raw, '{"event":"obj","channel":"c",' +
			    '"data":"{\\"n\\":1}"}');
			assert.equal(b.raw, '{"event":"str","channel":"c",' +
			    '"data":"text"}');
			assertEnvelope(await nextEvent(full), { id: id1,
			    event: 'obj', data: { n: 1 }, source: 'ws' });
			assertEnvelope(await nextEvent(full), { id: id2,
			    event: 'str', data: 'text', source: 'ws' });
			// The publisher, not subscribed, gets neither.
			await pub.ping();
			assert.deepEqual(pub.drainInbox({ channel: 'c' }), []);
		} finally {
			await closeAll([plain, full, pub]);
		}
	});
});

describe('the envelope on request', () => {
	it('format=envelope on the URL', async () => {
		const c = await connect(s, { format: 'envelope' });
		try {
			await c.mustSubscribe('c');
			const [id] = await postOk(s, { event: 'greeting',
			    channel: 'c', data: { message: 'hello' } });
			assertEnvelope(await nextEvent(c), { id, event: 'greeting',
			    data: { message: 'hello' }, source: 'http' });
			// The protocol's own messages stay as they are.
			const pong = await c.ping();
			assert.equal(pong.raw, '{"event":"pusher:pong","data":{}}');
			// format=pusher is the default, said outright.
			const d = await connect(s, { format: 'pusher' });
			try {
				await d.mustSubscribe('c');
				await postOk(s, { event: 'e', channel: 'c',
				    data: 1 });
				const m = await nextEvent(d);
				assert.equal(m.raw, '{"event":"e","channel":"c",' +
				    '"data":"1"}');
			} finally {
				await d.close();
			}
		} finally {
			await c.close();
		}
	});

	it('sluice:options: to the envelope and back', async () => {
		const c = await connect(s);
		try {
			await c.mustSubscribe('c');
			// {} asks for the options in force.
			let r = await c.options({});
			assert.equal(r.raw, '{"event":"sluice:options_succeeded",' +
			    '"data":"{\\"format\\":\\"pusher\\"}"}');
			r = await c.options({ format: 'envelope' });
			assert.equal(r.event, 'sluice:options_succeeded', r.raw);
			assert.deepEqual(r.payload, { format: 'envelope' });
			const [id] = await postOk(s, { event: 'greeting',
			    channel: 'c', data: { message: 'hello' } });
			assertEnvelope(await nextEvent(c), { id, event: 'greeting',
			    data: { message: 'hello' }, source: 'http' });
			// data may be sent as a string of JSON, as Pusher
			// clients do.
			await c.send({ event: 'sluice:options',
			    data: JSON.stringify({ format: 'pusher' }) });
			r = await c.next('sluice:options_succeeded');
			assert.deepEqual(r.payload, { format: 'pusher' });
			await postOk(s, { event: 'greeting', channel: 'c',
			    data: { message: 'again' } });
			const m = await nextEvent(c);
			assert.equal(m.raw, '{"event":"greeting","channel":"c",' +
			    '"data":"{\\"message\\":\\"again\\"}"}');
		} finally {
			await c.close();
		}
	});

	it('an unknown format or option: a clear pusher:error, nothing ' +
	    'changed', async () => {
		const c = await connect(s, { format: 'xml' });
		try {
			// Connected all the same, in the default format.
			const [err] = await c.take('pusher:error', 1);
			assert.equal(err.data.code, null);
			assert.equal(err.data.message, 'unknown format "xml" in ' +
			    'the format query argument: use "pusher" (the ' +
			    'default: data as published) or "envelope"');
			const bad = [
				[{ format: 'Envelope' }, /unknown format "Envelope" in sluice:options/],
				[{ format: 1 }, /format must be a string/],
				[{ format: 'envelope', colour: 'red' },
				    /unknown option "colour"/],
				[undefined, /sluice:options needs data/],
			];
			for (const [data, why] of bad) {
				const r = await c.options(data);
				assert.equal(r.event, 'pusher:error', r.raw);
				assert.match(r.data.message, why);
				assert.ok(c.isOpen);
			}
			// Nothing was applied, not even the good half.
			const r = await c.options({});
			assert.deepEqual(r.payload, { format: 'pusher' });
			await c.mustSubscribe('c');
			await postOk(s, { event: 'e', channel: 'c', data: [] });
			const m = await nextEvent(c);
			assert.equal(m.raw, '{"event":"e","channel":"c",' +
			    '"data":"[]"}');
		} finally {
			await c.close();
		}
	});
});

describe('frames encoded once per format', () => {
	it('the envelope is encoded only while a connection takes it',
	    { timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-format-once', waitWs: true,
		    apps: [APP] });
		const plain = [];
		const full = [];
		const frames = (m, format) =>
		    m.get(`sluice_ws_event_frames_total{format="${format}"}`);
		try {
			for (let i = 0; i < 3; i++) {
				plain.push(await connect(d));
				await plain[i].mustSubscribe('c');
			}
			let m0 = await metrics(d);
			assert.equal(m0.get('sluice_ws_envelope_connections'), 0);
			await postOk(d, [1, 2].map((n) => ({ event: 'e',
			    channel: 'c', data: n })));
			for (const c of plain)
				await c.take((m) => m.event === 'e', 2);
			let m1 = await metrics(d);
			assert.equal(frames(m1, 'pusher') - frames(m0, 'pusher'),
			    2);
			assert.equal(frames(m1, 'envelope'), 0);

			// Two envelope takers: one by the URL, one by message.
			full.push(await connect(d, { format: 'envelope' }));
			full.push(await connect(d));
			await full[1].options({ format: 'envelope' });
			for (const c of full)
				await c.mustSubscribe('c');
			m0 = await metrics(d);
			assert.equal(m0.get('sluice_ws_envelope_connections'), 2);
			const ids = await postOk(d, [1, 2, 3].map((n) => ({
			    event: 'e', channel: 'c', data: n })));
			for (const c of plain) {
				const got = await c.take((m) => m.event === 'e', 3);
				assert.deepEqual(got.map((m) => m.data),
				    ['1', '2', '3']);
			}
			for (const c of full) {
				const got = await c.take((m) => m.event === 'e', 3);
				assert.deepEqual(got.map((m) => m.payload.id), ids);
				assert.ok(got.every((m) => m.envelope === true));
			}
			m1 = await metrics(d);
			// Three events: three frames of each format for five
			// subscribers.
			assert.equal(frames(m1, 'pusher') - frames(m0, 'pusher'),
			    3);
			assert.equal(frames(m1, 'envelope') -
			    frames(m0, 'envelope'), 3);
			assert.equal(m1.get('sluice_fanout_deliveries_total') -
			    m0.get('sluice_fanout_deliveries_total'), 15);

			// One switches back, the other leaves: no envelope
			// frame any more.
			await full[1].options({ format: 'pusher' });
			await full[0].close();
			await waitFor(async () => (await metrics(d)).get(
			    'sluice_ws_envelope_connections') === 0,
			    { what: 'sluice_ws_envelope_connections 0' });
			m0 = await metrics(d);
			await postOk(d, { event: 'e', channel: 'c', data: 4 });
			const m = await full[1].next((x) => x.event === 'e');
			assert.equal(m.raw, '{"event":"e","channel":"c",' +
			    '"data":"4"}');
			m1 = await metrics(d);
			assert.equal(frames(m1, 'pusher') - frames(m0, 'pusher'),
			    1);
			assert.equal(frames(m1, 'envelope') -
			    frames(m0, 'envelope'), 0);
		} finally {
			await closeAll([...plain, ...full]);
			await d.stop();
		}
	});
});

describe('cache channels', () => {
	it('the last event, kept, reaches a new subscriber in its format',
	    { timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-format-cache', waitWs: true,
		    apps: [APP] });
		try {
			// Published while no connection takes envelopes.
			assert.equal((await metrics(d)).get(
			    'sluice_ws_envelope_connections'), 0);
			const [id] = await postOk(d, { event: 'score',
			    channel: 'cache-game', data: { red: 3 } });
			const plain = await connect(d);
			const full = await connect(d, { format: 'envelope' });
			try {
				await plain.mustSubscribe('cache-game');
				await full.mustSubscribe('cache-game');
				const a = await plain.next('score');
				assert.equal(a.raw, '{"event":"score","channel":' +
				    '"cache-game","data":"{\\"red\\":3}"}');
				const b = await full.next('score');
				assert.equal(b.envelope, true, b.raw);
				assert.equal(b.payload.id, id);
				assert.deepEqual(b.payload.data, { red: 3 });
			} finally {
				await closeAll([plain, full]);
			}
		} finally {
			await d.stop();
		}
	});
});

describe('a disabled app', () => {
	it('its connections get pusher:error 4003 and close 4003', async () => {
		const r = await connectRefused(s, { key: DISABLED.key });
		assert.ok(r.error, 'no pusher:error before the close');
		assert.equal(r.error.raw, '{"event":"pusher:error","data":' +
		    '{"code":4003,"message":"app off is disabled"}}');
		assert.equal(r.close.code, 4003);
		assert.equal(r.close.reason, 'app disabled');
		const m = await metrics(s);
		assert.ok(m.get('sluice_ws_closes_total{code="4003"}') >= 1);
	});

	it('its events get 403 app_disabled, readable cross-origin',
	    async () => {
		const r = await post(s.url, { event: 'e', channel: 'c' },
		    { key: DISABLED.key,
		    headers: { Origin: 'https://allowed.example' } });
		assert.equal(r.status, 403, r.text);
		assert.deepEqual(r.json, { error: 'app_disabled',
		    message: 'app off is disabled' });
		assert.equal(r.headers['access-control-allow-origin'],
		    'https://allowed.example');
		// The key in the query argument too.
		const q = await post(`${s.url}?key=${DISABLED.key}`,
		    { event: 'e', channel: 'c' }, { contentType: 'text/plain' });
		assert.equal(q.status, 403, q.text);
		assert.equal(q.json.error, 'app_disabled');
		// The other app goes on.
		await postOk(s, { event: 'e', channel: 'c' });
	});
});
