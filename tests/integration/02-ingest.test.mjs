// 02-ingest: posted events arrive in RabbitMQ with the right envelope,
// properties and routing key, through the declared topology.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { post, startSluiced, uniqueNames } from '../lib/sluiced.mjs';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ENVELOPE_KEYS = ['id', 'app', 'channel', 'event', 'data', 'received_at',
    'timestamp', 'client_timestamp', 'client_sent_at', 'ip', 'user_agent',
    'origin', 'source'];

// Bindings of the archive queue (in a topic pattern "*" is a whole word).
const ARCHIVED = ['events.#', 'game-1.#', 'game-7.#'];

// Events on the channels named in ARCHIVED are archived; others (such as
// "chat.*", which the app may publish to) match no binding and go to the
// unrouted queue through the alternate exchange. Both queues are emptied
// before each test.
const names = uniqueNames('ingest');
const { s, broker } = useSluiced({ name: 'ingest', names, waitReady: true,
    queues: { [names.queue]: ARCHIVED } },
    { purgeEach: ['queue', 'unrouted'] });

// Posts events and returns the reply, asserting a 202.
async function accept(body, opts = {}) {
	const r = await post(s.url, body, { key: s.key, ...opts });
	assert.equal(r.status, 202, `expected 202, got ${r.status}: ${r.text}`);
	return r;
}

describe('envelope and properties', () => {
	it('a single event arrives with the full envelope', async () => {
		const t0 = Date.now();
		const r = await accept({ event: 'page_view', data: { path: '/a',
		    n: [1, 2.5, null, true, 'x'] } }, { headers: {
		    'User-Agent': 'sluice-test/1.0',
		    'Origin': 'https://allowed.example' } });
		const t1 = Date.now();
		assert.equal(r.json.accepted, 1);
		assert.equal(r.json.ids.length, 1);
		const id = r.json.ids[0];
		assert.match(id, UUID7);
		assert.match(r.headers['content-type'], /^application\/json/);

		const [m] = await broker.collect(s.names.queue, 1);
		const e = m.body;
		assert.deepEqual(Object.keys(e).sort(), [...ENVELOPE_KEYS].sort());
		assert.equal(e.id, id);
		assert.equal(e.app, 'web');
		assert.equal(e.channel, 'events');	// the app's default
		assert.equal(e.event, 'page_view');
		assert.deepEqual(e.data, { path: '/a', n: [1, 2.5, null, true,
		    'x'] });
		assert.match(e.received_at, ISO_MS);
		const rcv = Date.parse(e.received_at);
		assert.ok(rcv >= t0 - 5 && rcv <= t1 + 5,
		    `received_at ${e.received_at} not within the request`);
		assert.equal(e.timestamp, e.received_at);
		assert.equal(e.client_timestamp, null);
		assert.equal(e.client_sent_at, null);
		assert.equal(e.ip, '127.0.0.1');
		assert.equal(e.user_agent, 'sluice-test/1.0');
		assert.equal(e.origin, 'https://allowed.example');
		assert.equal(e.source, 'http');

		const p = m.properties;
		assert.equal(p.deliveryMode, 2);
		assert.equal(p.contentType, 'application/json');
		assert.equal(p.messageId, id);
		assert.equal(p.appId, 'web');
		assert.equal(p.timestamp, Math.floor(rcv / 1000));
		const { sluice_seq: seq, ...headers } = p.headers;
		assert.deepEqual(headers, { app: 'web', channel: 'events',
		    event: 'page_view' });
		// The journal sequence number: matches a return to its publish.
		assert.ok(Number.isInteger(Number(seq)) && Number(seq) > 0,
		    `sluice_seq ${seq}`);
		assert.equal(m.fields.exchange, s.names.exchange);
		assert.equal(m.fields.routingKey, 'events.page_view');
	});

	it('an event without data or headers gets nulls', async () => {
		const r = await accept({ event: 'bare' });
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.id, r.json.ids[0]);
		assert.equal(m.body.data, null);
		assert.equal(m.body.origin, null);
	});

	it('the client id is kept as id and message_id', async () => {
		const id = `client-${Date.now()}-abc`;
		const r = await accept({ id, event: 'signup', channel: 'game-7',
		    data: 'x' });
		assert.deepEqual(r.json.ids, [id]);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.id, id);
		assert.equal(m.properties.messageId, id);
		assert.equal(m.body.channel, 'game-7');
		assert.equal(m.fields.routingKey, 'game-7.signup');
		const { sluice_seq: seq, ...headers } = m.properties.headers;
		assert.deepEqual(headers, { app: 'web', channel: 'game-7',
		    event: 'signup' });
		assert.ok(Number(seq) > 0, `sluice_seq ${seq}`);
	});

	it('the timestamp is corrected for the client clock skew', async () => {
		// The client clock is 1 h 5 s ahead: it says it sent the event
		// at sent_at, 2.5 s after it happened.
		const skew = 3605000;
		const happened = Date.now() + skew - 2500;
		const sentAt = new Date(happened + 2500).toISOString();
		const r = await accept({ event: 'click', timestamp: happened,
		    sent_at: sentAt });
		const [m] = await broker.collect(s.names.queue, 1);
		const e = m.body;
		assert.equal(e.id, r.json.ids[0]);
		// The raw client values are kept as sent.
		assert.equal(e.client_timestamp, happened);
		assert.equal(e.client_sent_at, sentAt);
		// timestamp = received_at - (sent_at - timestamp)
		assert.match(e.timestamp, ISO_MS);
		assert.equal(Date.parse(e.timestamp),
		    Date.parse(e.received_at) - 2500);
	});

	it('a timestamp alone is taken as it is', async () => {
		const ts = '2024-02-29T12:34:56.789+02:00';
		await accept({ event: 'old', timestamp: ts });
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.timestamp, '2024-02-29T10:34:56.789Z');
		assert.equal(m.body.client_timestamp, ts);
		assert.equal(m.body.client_sent_at, null);
	});

	it('X-Forwarded-For is ignored from an untrusted peer', async () => {
		await accept({ event: 'xff' }, { headers: {
		    'X-Forwarded-For': '203.0.113.9' } });
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.ip, '127.0.0.1');
	});
});

describe('body shapes', () => {
	it('an array of events: all accepted, ids in order', async () => {
		const events = [
			{ event: 'a', data: 1 },
			{ event: 'b', channel: 'game-1', data: 2 },
			{ event: 'c', id: 'my-own-id-c', data: 3 },
		];
		const r = await accept(events);
		assert.equal(r.json.accepted, 3);
		assert.equal(r.json.ids.length, 3);
		assert.equal(r.json.ids[2], 'my-own-id-c');
		const msgs = await broker.collect(s.names.queue, 3);
		const byId = new Map(msgs.map((m) => [m.body.id, m]));
		for (let i = 0; i < 3; i++) {
			const m = byId.get(r.json.ids[i]);
			assert.ok(m, `event ${i} (${r.json.ids[i]}) did not arrive`);
			assert.equal(m.body.event, events[i].event);
			assert.equal(m.body.data, events[i].data);
		}
		assert.equal(byId.get(r.json.ids[1]).fields.routingKey,
		    'game-1.b');
		// One request's events share received_at.
		assert.equal(new Set(msgs.map((m) => m.body.received_at)).size, 1);
	});

	it('{"batch": [...]} is accepted like an array', async () => {
		const r = await accept({ batch: [{ event: 'x1' }, { event: 'x2' }] });
		assert.equal(r.json.accepted, 2);
		const msgs = await broker.collect(s.names.queue, 2);
		assert.deepEqual(msgs.map((m) => m.body.id).sort(),
		    [...r.json.ids].sort());
		assert.deepEqual(msgs.map((m) => m.body.event).sort(),
		    ['x1', 'x2']);
	});

	it('a batch of 500 events (the default limit) arrives whole', async () => {
		const events = [];
		for (let i = 0; i < 500; i++)
			events.push({ event: 'bulk', data: { i } });
		const r = await accept(events);
		assert.equal(r.json.accepted, 500);
		const got = await broker.collectIds(s.names.queue, r.json.ids,
		    { timeout: 15000 });
		assert.deepEqual(got.missing, []);
		assert.equal(got.others, 0);
	});
});

describe('topology', () => {
	it('an event no binding matches lands in the unrouted queue', async () => {
		const r = await accept({ event: 'said', channel: 'chat.lobby',
		    data: { text: 'hi' } });
		const [m] = await broker.collect(s.names.unrouted, 1);
		assert.equal(m.body.id, r.json.ids[0]);
		assert.equal(m.body.channel, 'chat.lobby');
		assert.equal(m.fields.routingKey, 'chat.lobby.said');
		assert.equal(m.properties.deliveryMode, 2);
		// ...and not in the archive.
		assert.equal(await broker.count(s.names.queue), 0);
	});

	it('the exchanges and queues are declared durable', async () => {
		for (const e of [s.names.exchange, s.names.unrouted])
			assert.ok(await broker.exchangeExists(e), `exchange ${e}`);
		for (const q of [s.names.queue, s.names.unrouted])
			assert.ok(await broker.queueExists(q), `queue ${q}`);
		// Redeclaring them durable succeeds only if they are durable.
		await broker.withChannel(async (ch) => {
			await ch.assertExchange(s.names.exchange, 'topic', {
			    durable: true,
			    arguments: { 'alternate-exchange': s.names.unrouted } });
			await ch.assertExchange(s.names.unrouted, 'fanout',
			    { durable: true });
			await ch.assertQueue(s.names.queue, { durable: true });
			await ch.assertQueue(s.names.unrouted, { durable: true });
		});
	});

	it('another queue of the config gets its own copy', async () => {
		const extra = `${s.names.prefix}.games`;
		await s.restart({ queues: {
			[s.names.queue]: ARCHIVED,
			[extra]: 'game-9.#',
		} });
		try {
			const r = await accept({ event: 'win', channel: 'game-9' });
			const [b] = await broker.collect(extra, 1);
			assert.equal(b.body.id, r.json.ids[0]);
			// Routed to a queue, so not to the unrouted one.
			assert.equal(await broker.count(s.names.unrouted), 0);
			const r2 = await accept({ event: 'lose', channel: 'game-1' });
			const [a] = await broker.collect(s.names.queue, 1);
			assert.equal(a.body.id, r2.json.ids[0]);
			assert.equal(await broker.count(extra), 0);
		} finally {
			await broker.deleteQueue(extra);
		}
	});
});

describe('the default topology', () => {
	let d;
	after(async () => {
		if (d)
			await d.stop();
		await broker.purge('sluice.archive');
	});

	it('sluice.events feeds sluice.archive', async () => {
		await broker.purge('sluice.archive');
		await broker.purge('sluice.unrouted');
		d = await startSluiced({ name: 'default', defaultTopology: true,
		    waitReady: true });
		const r = await post(d.url, { event: 'default_path', data: 42 },
		    { key: d.key });
		assert.equal(r.status, 202);
		const got = await broker.collectIds('sluice.archive', r.json.ids,
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
		const m = got.messages.get(r.json.ids[0]);
		assert.equal(m.fields.exchange, 'sluice.events');
		assert.equal(m.fields.routingKey, 'events.default_path');
		assert.equal(m.body.data, 42);
		assert.ok(await broker.exchangeExists('sluice.unrouted'));
		assert.ok(await broker.queueExists('sluice.unrouted'));
	});
});

describe('trusted proxies', () => {
	let p;
	after(async () => {
		if (p)
			await p.stop();
	});

	it('X-Forwarded-For is believed from a trusted proxy', async () => {
		p = await startSluiced({ name: 'proxy', names: s.names,
		    server: { trusted_proxies: '127.0.0.1, 10.0.0.0/8' } });
		const r = await post(p.url, { event: 'via_proxy' }, { key: p.key,
		    headers: { 'X-Forwarded-For': '198.51.100.7, 10.1.2.3' } });
		assert.equal(r.status, 202);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.id, r.json.ids[0]);
		assert.equal(m.body.ip, '198.51.100.7');
	});
});
