// 12-ws-publish: acknowledged publishing over WebSocket (sluice:publish):
// acks with the ids once durable, the events in RabbitMQ with source "ws";
// nacks with per-event errors for a mix of valid and invalid events, and
// whole-message errors; a bad ref (counted in characters, no control
// characters); the per-connection rate limit (4301 and
// rate_limited); a full journal (journal_full with retry_after, nothing
// acknowledged lost).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { closedPortUrl, metrics } from '../lib/sluiced.mjs';
import { closeAll, connect } from '../lib/ws.mjs';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ENVELOPE_KEYS = ['id', 'app', 'channel', 'event', 'data', 'received_at',
    'timestamp', 'client_timestamp', 'client_sent_at', 'ip', 'user_agent',
    'origin', 'source'];
const MAX_EVENTS = 50;
const WHOLE_CODES = ['invalid_body', 'no_events', 'too_many_events',
    'journal_full', 'stopping', 'journal_unavailable', 'rate_limited'];

const { s, broker, start } = useSluiced({ name: 'ws-pub', waitWs: true,
    waitReady: true, limits: { max_events_per_request: MAX_EVENTS } },
    { purgeEach: ['queue'] });

function runId() {
	return randomBytes(4).toString('hex');
}

// Checks r is a sluice:ack of ref (its data a JSON string): returns ids.
function assertAck(r, ref, n) {
	assert.equal(r.event, 'sluice:ack', r.raw.slice(0, 400));
	assert.equal(typeof r.data, 'string', `data must be a JSON string: ` +
	    r.raw.slice(0, 200));
	assert.equal(r.payload.ref, ref);
	assert.ok(Array.isArray(r.payload.ids), r.raw);
	assert.equal(r.payload.ids.length, n, r.raw.slice(0, 400));
	assert.equal(r.payload.errors, undefined, r.raw.slice(0, 400));
	return r.payload.ids;
}

// Checks r is a sluice:nack of ref; returns its payload.
function assertNack(r, ref) {
	assert.equal(r.event, 'sluice:nack', r.raw.slice(0, 400));
	assert.equal(typeof r.data, 'string', `data must be a JSON string: ` +
	    r.raw.slice(0, 200));
	assert.equal(r.payload.ref, ref);
	assert.ok(Array.isArray(r.payload.ids), r.raw);
	assert.ok(Array.isArray(r.payload.errors) &&
	    r.payload.errors.length > 0, r.raw);
	for (const e of r.payload.errors) {
		assert.equal(typeof e.code, 'string', r.raw);
		assert.equal(typeof e.message, 'string', r.raw);
		assert.ok(e.message.length > 0);
	}
	return r.payload;
}

// Checks a nack refused the whole message with code (index null, no ids).
function assertWhole(r, ref, code) {
	const p = assertNack(r, ref);
	assert.deepEqual(p.ids, [], r.raw);
	assert.equal(p.errors.length, 1, r.raw);
	assert.equal(p.errors[0].index, null, r.raw);
	assert.equal(p.errors[0].code, code, r.raw);
	assert.ok(WHOLE_CODES.includes(code));
	return p;
}

// Checks the reply sent nothing to the queue: a marker published after it
// is the next message there.
async function assertNothingQueued(c) {
	const ref = `marker-${runId()}`;
	const [id] = assertAck(await c.publish(ref, [{ event: 'marker' }]),
	    ref, 1);
	const [m] = await broker.collect(s.names.queue, 1);
	assert.equal(m.body.id, id, `another event reached RabbitMQ before ` +
	    `the marker: ${m.raw.slice(0, 200)}`);
}

describe('acks', () => {
	it('events are acknowledged with their ids and reach RabbitMQ',
	    async () => {
		const run = runId();
		const c = await connect(s, { origin: 'https://allowed.example',
		    headers: { 'User-Agent': 'sluice-ws-test/1.0' } });
		try {
			const t0 = Date.now();
			const events = [
				{ id: `pub-${run}-a`, event: 'signup',
				    data: { plan: 'pro' } },
				{ event: 'page_view', channel: 'game-7',
				    data: [1, 'two', null] },
				{ id: `pub-${run}-c`, event: 'chat', channel:
				    'chat.lobby', timestamp: '2024-02-29T10:00:00Z' },
			];
			const ids = assertAck(await c.publish('r-1', events),
			    'r-1', 3);
			const t1 = Date.now();
			assert.equal(ids[0], events[0].id);
			assert.match(ids[1], UUID7);
			assert.equal(ids[2], events[2].id);
			const got = await broker.collect(s.names.queue, 3);
			const byId = new Map(got.map((m) => [m.body.id, m]));
			for (const [i, e] of events.entries()) {
				const m = byId.get(ids[i]);
				assert.ok(m, `event ${i} not in RabbitMQ`);
				const env = m.body;
				assert.deepEqual(Object.keys(env).sort(),
				    [...ENVELOPE_KEYS].sort(), 'the envelope of a ' +
				    'WebSocket event differs from an HTTP one');
				assert.equal(env.source, 'ws');
				assert.equal(env.app, 'web');
				assert.equal(env.channel, e.channel || 'events');
				assert.equal(env.event, e.event);
				assert.deepEqual(env.data, e.data ?? null);
				assert.match(env.received_at, ISO_MS);
				const rcv = Date.parse(env.received_at);
				assert.ok(rcv >= t0 - 5 && rcv <= t1 + 5);
				assert.equal(env.ip, '127.0.0.1');
				assert.equal(m.properties.messageId, ids[i]);
				// Enriched as HTTP events are: from the handshake.
				assert.equal(env.origin, 'https://allowed.example');
				assert.equal(env.user_agent, 'sluice-ws-test/1.0');
			}
			assert.equal(byId.get(ids[2]).body.timestamp,
			    '2024-02-29T10:00:00.000Z');
		} finally {
			await c.close();
		}
	});

	it('data may be a JSON string; events may be a single object',
	    async () => {
		const c = await connect(s);
		try {
			await c.send({ event: 'sluice:publish', data:
			    JSON.stringify({ ref: 'as-string', events: [
			    { event: 'x1' }, { event: 'x2' }] }) });
			const ids = assertAck(await c.reply('as-string'),
			    'as-string', 2);
			const r = await c.publish('single', { event: 'x3',
			    data: { one: true } });
			const [id3] = assertAck(r, 'single', 1);
			const got = await broker.collect(s.names.queue, 3);
			assert.deepEqual(got.map((m) => m.body.id).sort(),
			    [...ids, id3].sort());
		} finally {
			await c.close();
		}
	});

	it('exactly one reply per publish, pipelined', async () => {
		const c = await connect(s);
		try {
			const N = 30;
			for (let i = 0; i < N; i++)
				await c.sendPublish(`p${i}`, i % 5 === 4 ?
				    [{ event: 'bad', nope: 1 }] :
				    [{ event: 'ok', data: { i } }]);
			const replies = [];
			for (let i = 0; i < N; i++)
				replies.push(await c.reply(`p${i}`));
			for (const [i, r] of replies.entries()) {
				if (i % 5 === 4)
					assert.equal(r.event, 'sluice:nack', r.raw);
				else
					assertAck(r, `p${i}`, 1);
			}
			await c.ping();
			assert.deepEqual(c.drainInbox((m) =>
			    m.event === 'sluice:ack' || m.event === 'sluice:nack'),
			    [], 'more replies than publishes');
			const got = await broker.collect(s.names.queue, N - 6);
			assert.equal(got.length, N - 6);
		} finally {
			await c.close();
		}
	});

	it('the same ref twice gets two replies', async () => {
		const c = await connect(s);
		try {
			assertAck(await c.publish('same', [{ event: 'a' }]),
			    'same', 1);
			assertAck(await c.publish('same', [{ event: 'b' }]),
			    'same', 1);
			assert.equal((await broker.collect(s.names.queue, 2)).
			    length, 2);
		} finally {
			await c.close();
		}
	});
});

describe('nacks', () => {
	it('a mix of valid and invalid events: per-index errors, the ' +
	    'valid ones durable', async () => {
		const run = runId();
		const c = await connect(s);
		try {
			const events = [
				{ id: `mix-${run}-0`, event: 'fine' },		// 0
				{ data: { no: 'event' } },			// 1
				{ id: `mix-${run}-2`, event: 'fine2',
				    channel: 'game-2' },			// 2
				{ event: 'x', channel: 'not-allowed' },		// 3
				{ event: 'pusher:reserved' },			// 4
				{ event: 'y', extra: 1 },			// 5
				'not an object',				// 6
				{ event: 'z', channel: 'bad channel' },		// 7
				{ event: 'w', id: 'has space' },		// 8
				{ event: 'v', timestamp: 'yesterday' },		// 9
				{ id: `mix-${run}-10`, event: 'fine3' },	// 10
			];
			const p = assertNack(await c.publish('mix', events), 'mix');
			assert.deepEqual(p.ids, [`mix-${run}-0`, `mix-${run}-2`,
			    `mix-${run}-10`]);
			const codes = Object.fromEntries(p.errors.map((e) =>
			    [e.index, e.code]));
			assert.deepEqual(codes, {
				1: 'missing_event',
				3: 'channel_not_allowed',
				4: 'invalid_event_name',
				5: 'unknown_field',
				6: 'not_object',
				7: 'invalid_channel',
				8: 'invalid_id',
				9: 'invalid_timestamp',
			}, JSON.stringify(p.errors));
			const got = await broker.collect(s.names.queue, 3);
			assert.deepEqual(got.map((m) => m.body.id).sort(),
			    [...p.ids].sort());
			for (const m of got)
				assert.equal(m.body.source, 'ws');
			await assertNothingQueued(c);
		} finally {
			await c.close();
		}
	});

	it('every event invalid: a nack with no ids', async () => {
		const c = await connect(s);
		try {
			const p = assertNack(await c.publish('bad', [{ x: 1 },
			    { event: '' }]), 'bad');
			assert.deepEqual(p.ids, []);
			assert.deepEqual(p.errors.map((e) => e.index), [0, 1]);
			await assertNothingQueued(c);
		} finally {
			await c.close();
		}
	});

	const whole = [
		['events not a list or object', 42, 'invalid_body'],
		['events a string', 'events', 'invalid_body'],
		['events null', null, 'invalid_body'],
		['no events', [], 'no_events'],
		[`${MAX_EVENTS + 1} events`, Array.from({ length: MAX_EVENTS +
		    1 }, () => ({ event: 'many' })), 'too_many_events'],
	];
	for (const [what, events, code] of whole) {
		it(`${what}: ${code} for the whole message`, async () => {
			const c = await connect(s);
			try {
				assertWhole(await c.publish('w', events), 'w', code);
				await assertNothingQueued(c);
			} finally {
				await c.close();
			}
		});
	}

	it(`${MAX_EVENTS} events are fine`, async () => {
		const c = await connect(s);
		try {
			assertAck(await c.publish('max', Array.from({ length:
			    MAX_EVENTS }, (_, i) => ({ event: 'many', data: i }))),
			    'max', MAX_EVENTS);
			assert.equal((await broker.collect(s.names.queue,
			    MAX_EVENTS)).length, MAX_EVENTS);
		} finally {
			await c.close();
		}
	});

	const badRefs = [
		['no ref', { events: [{ event: 'a' }] }],
		['an empty ref', { ref: '', events: [{ event: 'a' }] }],
		['a ref of 129 characters', { ref: 'r'.repeat(129),
		    events: [{ event: 'a' }] }],
		['a ref that is a number', { ref: 7, events: [{ event: 'a' }] }],
		['a ref that is null', { ref: null, events: [{ event: 'a' }] }],
		['data that is a list', [{ event: 'a' }]],
		['data that is a string of no JSON', 'ref=1'],
		['a ref with a NUL', { ref: 'r-\u0000-cut', events: [{
		    event: 'a' }] }, /control characters/],
		['a ref with ESC', { ref: 'r\u001b[2J', events: [{
		    event: 'a' }] }, /control characters/],
		['a ref with a C1 control', { ref: 'r\u009b', events: [{
		    event: 'a' }] }, /control characters/],
		['a ref of 129 characters, some of them two bytes',
		    { ref: '\u00e9'.repeat(129), events: [{ event: 'a' }] },
		    /1 to 128 characters, not 129/],
	];
	for (const [what, data, message] of badRefs) {
		it(`${what}: pusher:error code null, no nack, nothing taken`,
		    async () => {
			const c = await connect(s);
			try {
				await c.send({ event: 'sluice:publish', data });
				const m = await c.next('pusher:error');
				assert.equal(m.data.code, null, m.raw);
				assert.equal(typeof m.data.message, 'string');
				if (message)
					assert.match(m.data.message, message);
				await assertNothingQueued(c);
				assert.deepEqual(c.drainInbox((x) =>
				    x.event === 'sluice:nack' ||
				    x.event === 'sluice:ack'), []);
			} finally {
				await c.close();
			}
		});
	}

	it('a ref of 128 characters is fine', async () => {
		const c = await connect(s);
		try {
			const ref = 'R'.repeat(128);
			assertAck(await c.publish(ref, [{ event: 'a' }]), ref, 1);
			await broker.collect(s.names.queue, 1);
		} finally {
			await c.close();
		}
	});

	it('a ref of 128 characters of several bytes each is fine, and comes '
	    + 'back whole', async () => {
		const c = await connect(s);
		try {
			for (const ch of ['\u00e9', '\u20ac', '\u{1f600}']) {
				const ref = ch.repeat(128);
				assertAck(await c.publish(ref, [{ event: 'a' }]),
				    ref, 1);
				await broker.collect(s.names.queue, 1);
			}
		} finally {
			await c.close();
		}
	});
});

describe('rate limit', () => {
	it('over the bucket: 4301 and rate_limited, the connection stays',
	    { timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-rate', waitWs: true,
		    waitReady: true, websocket: { publish_rate: 1,
		    publish_burst: 20 } });
		const c = await connect(d);
		const other = await connect(d);
		try {
			assertAck(await c.publish('a', Array.from({ length: 15 },
			    () => ({ event: 'r' }))), 'a', 15);
			// 5 tokens left (plus one a second): 10 is too many.
			await c.sendPublish('b', Array.from({ length: 10 },
			    () => ({ event: 'r' })));
			const err = await c.next('pusher:error');
			assert.equal(err.data.code, 4301, err.raw);
			const p = assertWhole(await c.reply('b'), 'b',
			    'rate_limited');
			assert.ok(Number.isInteger(p.errors[0].retry_after ??
			    p.retry_after) && (p.errors[0].retry_after ??
			    p.retry_after) >= 1, `no retry_after in seconds: ` +
			    JSON.stringify(p));
			assert.ok(c.isOpen);
			await c.ping();
			// What is left may still be used.
			assertAck(await c.publish('c', Array.from({ length: 4 },
			    () => ({ event: 'r' }))), 'c', 4);
			// More than the bucket holds is never taken.
			await c.sendPublish('d', Array.from({ length: 21 },
			    () => ({ event: 'r' })));
			assertWhole(await c.reply('d'), 'd', 'rate_limited');
			// The bucket is per connection.
			assertAck(await other.publish('e', Array.from({ length:
			    20 }, () => ({ event: 'r' }))), 'e', 20);
			const got = await broker.collect(d.names.queue, 39);
			assert.equal(got.length, 39);
			// Nothing of the refused publishes (10 + 21) came.
			assert.equal(await broker.count(d.names.queue), 0);
		} finally {
			await closeAll([c, other]);
			await d.stop();
		}
	});

	it('{"batch": [...]} is charged per event, like an array',
	    { timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-rate-batch', waitWs: true,
		    waitReady: true, websocket: { publish_rate: 1,
		    publish_burst: 20 } });
		const c = await connect(d);
		const batch = (n) => ({ batch: Array.from({ length: n },
		    () => ({ event: 'r' })) });
		try {
			// More than the bucket ever holds: refused whole.
			await c.sendPublish('a', batch(500));
			const err = await c.next('pusher:error');
			assert.equal(err.data.code, 4301, err.raw);
			assertWhole(await c.reply('a'), 'a', 'rate_limited');
			// 15 of the 20 tokens, then 10 is too many.
			assertAck(await c.publish('b', batch(15)), 'b', 15);
			await c.sendPublish('c', batch(10));
			assertWhole(await c.reply('c'), 'c', 'rate_limited');
			assert.ok(c.isOpen);
			const got = await broker.collect(d.names.queue, 15);
			assert.equal(got.length, 15);
			assert.equal(await broker.count(d.names.queue), 0);
		} finally {
			await closeAll([c]);
			await d.stop();
		}
	});
});

describe('a full journal', () => {
	it('journal_full with retry_after; nothing acknowledged is lost',
	    { timeout: 120000 }, async (t) => {
		const d = await start({ name: 'ws-full', waitWs: true,
		    amqpUrl: await closedPortUrl(),
		    journal: { segment_bytes: '64K', max_bytes: '256K' },
		    server: { shutdown_timeout: 1 } });
		const run = runId();
		const c = await connect(d);
		const acked = new Set();
		const refused = new Set();
		let full = null;
		try {
			for (let b = 0; b < 400 && !full; b++) {
				const events = Array.from({ length: 10 }, (_, i) =>
				    ({ id: `full-${run}-${b}-${i}`, event: 'fill',
				    data: { pad: 'f'.repeat(200) } }));
				const r = await c.publish(`f${b}`, events);
				if (r.event === 'sluice:ack') {
					for (const id of assertAck(r, `f${b}`, 10))
						acked.add(id);
					continue;
				}
				full = assertWhole(r, `f${b}`, 'journal_full');
				for (const e of events)
					refused.add(e.id);
			}
			assert.ok(full, 'the journal never filled');
			const retry = full.errors[0].retry_after ??
			    full.retry_after;
			assert.ok(Number.isInteger(retry) && retry >= 1,
			    `journal_full without retry_after in seconds: ` +
			    JSON.stringify(full));
			assert.ok(acked.size > 0);
			assert.equal((await metrics(d)).get(
			    'sluice_journal_unconfirmed_records'), acked.size,
			    'the journal holds other records than the ' +
			    'acknowledged ones');
			assert.ok(c.isOpen);
			await c.close();

			await d.restart({ amqpUrl: null, waitReady: true });
			const got = await broker.collectIds(d.names.queue,
			    [...acked], { timeout: 30000 });
			t.diagnostic(`acked ${acked.size}, refused ` +
			    `${refused.size}, missing ${got.missing.length}`);
			assert.deepEqual(got.missing, [], 'acknowledged events ' +
			    'lost');
			assert.equal(got.others, 0, 'refused events arrived');
		} finally {
			await c.close();
			await d.stop();
		}
	});
});
