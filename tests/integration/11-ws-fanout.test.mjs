// 11-ws-fanout: every accepted event reaches every subscriber of its
// channel, without waiting for the broker: its data as published to the
// subscribers in the default format, and to those that ask for it
// (format=envelope) as the envelope RabbitMQ gets, each frame encoded once
// for all; each publisher's events arrive in the order sent, with several
// publishers at once over HTTP and WebSocket; a subscriber that stops
// reading is closed with 4100 while the others get everything; the fan-out
// metrics move.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { closedPortUrl, metrics, post, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect } from '../lib/ws.mjs';

const { s, broker, start } = useSluiced({ name: 'ws-fan', waitWs: true,
    waitReady: true }, { purgeEach: ['queue'] });

// Subscribers that read ids and envelopes ask for the envelope.
const ENVELOPE = { format: 'envelope' };

function runId() {
	return randomBytes(4).toString('hex');
}

// Posts events over HTTP to handle d and asserts a 202.
async function postOk(d, events) {
	const r = await post(d.url, events, { key: d.key, timeout: 30000 });
	assert.equal(r.status, 202, `${r.status} ${r.text.slice(0, 300)}`);
	return r.json.ids;
}

// The deliveries of n events on channel to c, in order of arrival
// (throws unless they all come in timeout ms).
async function deliveries(c, channel, n, { timeout = 30000 } = {}) {
	return c.take((m) => m.channel === channel && m.payload &&
	    typeof m.payload === 'object', n, { timeout });
}

// Waits until no connection of d takes envelopes.
function noEnvelopeTakers(d) {
	return waitFor(async () => (await metrics(d)).get(
	    'sluice_ws_envelope_connections') === 0,
	    { what: 'sluice_ws_envelope_connections 0' });
}

describe('fan-out', () => {
	it('HTTP events reach every subscriber: as published, or as the ' +
	    'broker\'s envelope', { timeout: 120000 }, async () => {
		const run = runId();
		const subs = [];
		try {
			// Three of each format.
			for (let i = 0; i < 6; i++) {
				const c = await connect(s, i < 3 ? ENVELOPE : {});
				await c.mustSubscribe('events');
				subs.push(c);
			}
			const other = await connect(s);
			subs.push(other);
			await other.mustSubscribe('game-elsewhere');
			const N = 150;
			const events = [];
			for (let i = 0; i < N; i++)
				events.push({ id: `fan-${run}-${i}`, event: 'view',
				    data: { i, s: 'caf\u00e9 \u2603 "q" \\' } });
			const ids = [];
			for (let i = 0; i < N; i += 50)
				ids.push(...await postOk(s, events.slice(i, i + 50)));
			assert.deepEqual(ids, events.map((e) => e.id));
			const fromBroker = await broker.collect(s.names.queue, N,
			    { timeout: 30000 });
			const envelopes = new Map(fromBroker.map((m) =>
			    [m.body.id, m.body]));
			for (const c of subs.slice(0, 3)) {
				const got = await deliveries(c, 'events', N);
				assert.deepEqual(got.map((m) => m.payload.id), ids,
				    'a subscriber got other events or another order');
				for (const m of got) {
					assert.equal(m.event, 'view');
					assert.equal(m.envelope, true, m.raw);
					assert.equal(typeof m.data, 'string',
					    'data must be the envelope as a string');
					assert.deepEqual(m.payload,
					    envelopes.get(m.payload.id),
					    'the delivered envelope differs from ' +
					    'the one in RabbitMQ');
				}
			}
			for (const c of subs.slice(3, 6)) {
				const got = await deliveries(c, 'events', N);
				assert.deepEqual(got.map((m) => m.payload),
				    events.map((e) => e.data), 'a subscriber got ' +
				    'other data or another order');
				for (const m of got) {
					assert.equal(m.event, 'view');
					assert.equal(m.envelope, undefined, m.raw);
					assert.deepEqual(Object.keys(m).sort(),
					    ['channel', 'data', 'event', 'payload',
					    'raw']);
					// The data's text as RabbitMQ has it.
					const env = envelopes.get(`fan-${run}-` +
					    `${m.payload.i}`);
					assert.deepEqual(JSON.parse(m.data), env.data);
				}
			}
			assert.deepEqual(other.drainInbox((m) =>
			    m.channel === 'events'), []);
		} finally {
			await closeAll(subs);
		}
	});

	it('events published over WebSocket reach the subscribers',
	    { timeout: 60000 }, async () => {
		const run = runId();
		const sub = await connect(s, ENVELOPE);
		const plain = await connect(s);
		const pub = await connect(s);
		try {
			await sub.mustSubscribe('game-ws');
			await plain.mustSubscribe('game-ws');
			const events = [0, 1, 2, 3, 4].map((i) => ({
			    id: `wsfan-${run}-${i}`, event: 'move',
			    channel: 'game-ws', data: { i } }));
			const r = await pub.publish('r1', events);
			assert.equal(r.event, 'sluice:ack', r.raw);
			const got = await deliveries(sub, 'game-ws', 5);
			assert.deepEqual(got.map((m) => m.payload.id),
			    events.map((e) => e.id));
			for (const m of got) {
				assert.equal(m.event, 'move');
				assert.equal(m.payload.source, 'ws');
				assert.equal(m.payload.app, 'web');
			}
			const data = await deliveries(plain, 'game-ws', 5);
			assert.deepEqual(data.map((m) => m.payload),
			    events.map((e) => e.data));
		} finally {
			await closeAll([sub, plain, pub]);
		}
	});

	it('does not wait for the broker', { timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-fan-nobroker', waitWs: true,
		    amqpUrl: await closedPortUrl(),
		    server: { shutdown_timeout: 1 } });
		const c = await connect(d, ENVELOPE);
		try {
			await c.mustSubscribe('events');
			const ids = await postOk(d, [{ event: 'a' },
			    { event: 'b' }]);
			const got = await deliveries(c, 'events', 2);
			assert.deepEqual(got.map((m) => m.payload.id), ids);
		} finally {
			await c.close();
			await d.stop();
		}
	});

	it('fifty subscribers get every event, each frame encoded once', {
	    timeout: 120000 }, async () => {
		const subs = [];
		try {
			await noEnvelopeTakers(s);
			for (let i = 0; i < 50; i++) {
				const c = await connect(s);
				await c.mustSubscribe('game-many');
				subs.push(c);
			}
			const before = await metrics(s);
			const ids = await postOk(s, Array.from({ length: 100 },
			    (_, i) => ({ event: 'tick', channel: 'game-many',
			    data: { i } })));
			assert.equal(ids.length, 100);
			await Promise.all(subs.map(async (c) => {
				const got = await deliveries(c, 'game-many', 100,
				    { timeout: 60000 });
				assert.deepEqual(got.map((m) => m.payload.i),
				    Array.from({ length: 100 }, (_, i) => i));
			}));
			const after = await metrics(s);
			const d = (k) => (after.get(k) ?? NaN) -
			    (before.get(k) ?? NaN);
			// One frame an event, shared by the fifty; none in the
			// envelope format, which nobody takes.
			assert.equal(d('sluice_ws_event_frames_total' +
			    '{format="pusher"}'), 100);
			assert.equal(d('sluice_ws_event_frames_total' +
			    '{format="envelope"}'), 0);
			assert.ok(d('sluice_fanout_deliveries_total') >= 5000,
			    `sluice_fanout_deliveries_total moved by ` +
			    `${d('sluice_fanout_deliveries_total')}`);
			assert.ok(d('sluice_fanout_latency_seconds_count') >= 100,
			    `sluice_fanout_latency_seconds_count moved by ` +
			    `${d('sluice_fanout_latency_seconds_count')}`);
			assert.ok(d('sluice_fanout_latency_seconds_sum') > 0);
			const inf = 'sluice_fanout_latency_seconds_bucket{le="+Inf"}';
			assert.equal(after.get(inf),
			    after.get('sluice_fanout_latency_seconds_count'));
			const buckets = [...after.keys()].filter((k) =>
			    k.startsWith('sluice_fanout_latency_seconds_bucket'));
			assert.ok(buckets.length >= 5, buckets.join(' '));
		} finally {
			await closeAll(subs);
		}
	});
});

describe('order per publisher', () => {
	it('several publishers at once: each one\'s events in order',
	    { timeout: 180000 }, async () => {
		const run = runId();
		const WS_PUBLISHERS = 4;
		const HTTP_PUBLISHERS = 2;
		const BATCHES = 15;
		const BATCH = 20;
		const both = [];	// subscribed to game-o1 and game-o2
		const one = [];		// to game-o1 only
		const pubs = [];
		try {
			for (let i = 0; i < 2; i++) {
				const c = await connect(s);
				await c.mustSubscribe('game-o1');
				await c.mustSubscribe('game-o2');
				both.push(c);
				const d = await connect(s);
				await d.mustSubscribe('game-o1');
				one.push(d);
			}
			for (let p = 0; p < WS_PUBLISHERS; p++)
				pubs.push(await connect(s));
			// Event k of publisher p: channel o1 or o2 by turns.
			const batchOf = (p, b) => Array.from({ length: BATCH },
			    (_, j) => {
				const k = b * BATCH + j;
				return { id: `ord-${run}-${p}-${k}`, event: 'seq',
				    channel: k % 3 === 0 ? 'game-o2' : 'game-o1',
				    data: { p, k } };
			});
			// WebSocket publishers send every batch without
			// waiting for acks; HTTP ones post one after another.
			const work = [];
			for (let p = 0; p < WS_PUBLISHERS; p++) {
				work.push((async () => {
					for (let b = 0; b < BATCHES; b++)
						await pubs[p].sendPublish(`b${b}`,
						    batchOf(p, b));
					for (let b = 0; b < BATCHES; b++) {
						const r = await pubs[p].reply(`b${b}`,
						    { timeout: 60000 });
						assert.equal(r.event, 'sluice:ack',
						    r.raw);
					}
				})());
			}
			for (let h = 0; h < HTTP_PUBLISHERS; h++) {
				const p = WS_PUBLISHERS + h;
				work.push((async () => {
					for (let b = 0; b < BATCHES; b++)
						await postOk(s, batchOf(p, b));
				})());
			}
			await Promise.all(work);
			const publishers = WS_PUBLISHERS + HTTP_PUBLISHERS;
			const total = publishers * BATCHES * BATCH;
			const onO1 = publishers * Array.from({ length: BATCHES *
			    BATCH }, (_, k) => k).filter((k) => k % 3 !== 0).length;
			const check = (got, wantPer) => {
				const last = new Map();
				const count = new Map();
				for (const m of got) {
					const { p, k } = m.payload;
					const prev = last.has(p) ? last.get(p) : -1;
					assert.ok(k > prev, `publisher ${p}: event ${k} ` +
					    `came after ${prev}`);
					last.set(p, k);
					count.set(p, (count.get(p) || 0) + 1);
				}
				for (let p = 0; p < publishers; p++)
					assert.equal(count.get(p), wantPer,
					    `publisher ${p}`);
			};
			for (const c of both) {
				const got = await c.take((m) => m.event === 'seq',
				    total, { timeout: 90000 });
				check(got, BATCHES * BATCH);
			}
			for (const c of one) {
				const got = await c.take((m) => m.event === 'seq',
				    onO1, { timeout: 90000 });
				check(got, onO1 / publishers);
				assert.ok(got.every((m) => m.channel === 'game-o1'));
			}
		} finally {
			await closeAll([...both, ...one, ...pubs]);
		}
	});
});

describe('slow consumers', () => {
	it('one that stops reading is closed with 4100; the others get ' +
	    'everything', { timeout: 240000 }, async (t) => {
		const d = await start({ name: 'ws-slow', waitWs: true,
		    websocket: { send_queue_bytes: '256K' },
		    limits: { max_request_bytes: '128K' },
		    journal: { max_bytes: '1G', segment_bytes: '16M' } });
		const run = runId();
		const fast = await connect(d, ENVELOPE);
		const slow = await connect(d, ENVELOPE);
		const fast2 = await connect(d, ENVELOPE);
		// A post (its events queued to each subscriber at once) stays
		// well under send_queue_bytes: only the stuck one goes over.
		const PAD = 'p'.repeat(2000);
		const BATCH = 25;
		const MAX_EVENTS = 40000;
		let posted = 0;
		const ids = [];
		try {
			await fast.mustSubscribe('events');
			await slow.mustSubscribe('events');
			await fast2.mustSubscribe('events');
			await fast2.mustSubscribe('game-side');
			const m0 = await metrics(d);
			slow.pause();
			// Post until the daemon says it closed a slow consumer
			// (the kernel buffers take a few MB first).
			let closedAt = -1;
			while (posted < MAX_EVENTS) {
				const batch = Array.from({ length: BATCH }, (_, i) =>
				    ({ id: `slow-${run}-${posted + i}`,
				    event: 'flood', data: { pad: PAD } }));
				ids.push(...await postOk(d, batch));
				posted += BATCH;
				const m = await metrics(d);
				if ((m.get('sluice_ws_slow_consumer_closes_total') ??
				    0) > (m0.get(
				    'sluice_ws_slow_consumer_closes_total') ?? 0)) {
					closedAt = posted;
					break;
				}
			}
			t.diagnostic(`slow consumer closed after ${closedAt} ` +
			    `events of ${PAD.length + 400} bytes or so posted`);
			assert.ok(closedAt > 0, `no slow consumer close after ` +
			    `${posted} events`);
			// A few more: the fast ones go on getting them.
			for (let i = 0; i < 5; i++) {
				const batch = Array.from({ length: BATCH }, (_, j) =>
				    ({ id: `slow-${run}-${posted + j}`,
				    event: 'flood', data: { pad: PAD } }));
				ids.push(...await postOk(d, batch));
				posted += BATCH;
			}
			const side = await postOk(d, [{ event: 'side',
			    channel: 'game-side' }]);
			for (const c of [fast, fast2]) {
				const got = await c.take((m) => m.event === 'flood',
				    ids.length, { timeout: 120000 });
				assert.deepEqual(got.map((m) => m.payload.id), ids,
				    'a fast subscriber missed events');
			}
			await fast2.next((m) => m.payload && m.payload.id ===
			    side[0]);
			assert.ok(fast.isOpen && fast2.isOpen);

			// The slow one, read again: what it got is a prefix of
			// the events, then pusher:error 4100 and close 4100.
			slow.resume();
			const close = await slow.waitClose({ timeout: 60000 });
			const got = slow.drainInbox('flood');
			const [err] = slow.drainInbox('pusher:error');
			t.diagnostic(`the slow consumer got ${got.length} of ` +
			    `${ids.length} events, then ${close.code}`);
			assert.ok(got.length < ids.length);
			assert.deepEqual(got.map((m) => m.payload.id),
			    ids.slice(0, got.length), 'the slow consumer got ' +
			    'events out of order or with gaps');
			assert.ok(err, 'no pusher:error before the close');
			assert.equal(err.data.code, 4100, err.raw);
			assert.equal(close.code, 4100, `closed with ${close.code} ` +
			    close.reason);
			const m1 = await metrics(d);
			assert.ok(m1.get('sluice_ws_closes_total{code="4100"}') >=
			    1);
			assert.equal(m1.get('sluice_ws_slow_consumer_closes_total'),
			    1, 'a fast subscriber was closed as slow too');
		} finally {
			await closeAll([fast, slow, fast2]);
			await d.stop();
		}
	});
});

