// 01-client-deliver: the browser client (client-js) against a real sluiced
// and RabbitMQ, over the ws package: tracked events are acknowledged, found
// in RabbitMQ with their ids, data, client timestamps and sent_at, and
// delivered live to a subscriber; events the server rejects are dropped
// with its error code; HTTP when the WebSocket cannot connect; a queue left
// by a closed client while sluiced was down is sent by the next one.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../../../tests/lib/amqp.mjs';
import { freePort, metrics, waitFor } from '../../../tests/lib/sluiced.mjs';
import { client, MemStorage, UUID7 } from './lib.mjs';

const { s, broker, start } = useSluiced({ name: 'cjs-deliver', waitWs: true,
    waitReady: true }, { purgeEach: ['queue', 'unrouted'] });

function runId() {
	return randomBytes(4).toString('hex');
}

describe('over the WebSocket', () => {
	it('tracked events are acknowledged, in RabbitMQ, and delivered live',
	    async (t) => {
		const run = runId();
		const c = client(s, { batchSize: 25, flushInterval: 20 });
		const live = new Map();
		try {
			await waitFor(() => c.state === 'connected',
			    { what: 'connected' });
			// Subscribed once connected: the client asks for the
			// envelope with sluice:options.
			c.subscribe('events', (env, name) => live.set(env.id,
			    [name, env]));
			await waitFor(async () => (await metrics(s)).get(
			    'sluice_ws_subscriptions') >= 1, { what: 'subscribed' });
			assert.equal((await metrics(s)).get(
			    'sluice_ws_envelope_connections'), 1);
			c.identify('user-42', { plan: 'pro' });
			const tracked = [];
			for (let i = 0; i < 300; i++) {
				const channel = i % 3 === 0 ? 'game-3' : undefined;
				tracked.push({ i, channel, p: c.track(`click-${i % 4}`,
				    { i, run }, { channel }) });
				if (i % 50 === 49)
					await new Promise((r) => setTimeout(r, 30));
			}
			const ids = await Promise.all(tracked.map((x) => x.p));
			for (const id of ids)
				assert.match(id, UUID7);
			assert.equal(new Set(ids).size, 300);
			assert.equal(c.acked, 300);
			assert.equal(c.queued, 0);
			assert.deepEqual(c.errors, []);

			const got = await broker.collectIds(s.names.queue, ids,
			    { timeout: 30000 });
			t.diagnostic(`RabbitMQ: ${got.messages.size} of 300, ` +
			    `duplicates ${got.dups}, others ${got.others}`);
			assert.deepEqual(got.missing, []);
			assert.equal(got.dups, 0);
			for (const [k, x] of tracked.entries()) {
				const m = got.messages.get(ids[k]);
				const env = m.body;
				assert.equal(m.properties.messageId, ids[k]);
				assert.equal(env.event, `click-${x.i % 4}`);
				assert.equal(env.channel, x.channel || 'events');
				assert.deepEqual(env.data, { i: x.i, run, user: { id:
				    'user-42', traits: { plan: 'pro' } } });
				assert.equal(env.source, 'ws');
				assert.equal(typeof env.client_timestamp, 'number');
				assert.equal(typeof env.client_sent_at, 'number');
				assert.ok(env.client_sent_at >= env.client_timestamp);
				// Skew corrected: the same machine, so close to it.
				const lag = Date.parse(env.received_at) -
				    Date.parse(env.timestamp);
				assert.ok(lag >= 0 && lag < 5000, `lag ${lag} ms`);
			}
			// The subscriber saw every event of its channel.
			const want = tracked.filter((x) => !x.channel).map((x) =>
			    ids[tracked.indexOf(x)]);
			await waitFor(() => want.every((id) => live.has(id)),
			    { what: 'live deliveries' });
			const [name, env] = live.get(want[0]);
			assert.equal(name, env.event);
			assert.equal(env.channel, 'events');
			// The whole envelope, as RabbitMQ has it.
			assert.equal(env.source, 'ws');
			assert.equal(env.app, 'web');
			assert.match(env.received_at, /^\d{4}-\d\d-\d\dT/);
			assert.equal(env.data.run, run);
			assert.ok(![...live.values()].some(([, e]) =>
			    e.channel !== 'events'));
		} finally {
			await c.close();
		}
	});

	it('events the server rejects are dropped with its code', async () => {
		const c = client(s, { flushInterval: 10 });
		const drops = [];
		c.on('drop', (d) => drops.push(d));
		try {
			await waitFor(() => c.state === 'connected',
			    { what: 'connected' });
			const good = c.track('fine', { n: 1 });
			const reserved = c.track('sluice:mine');
			const closed = c.track('x', null, { channel: 'nope' });
			const badId = c.track('x', null, { id: 'has space' });
			const id = await good;
			await assert.rejects(reserved, { code: 'invalid_event_name' });
			await assert.rejects(closed, { code: 'channel_not_allowed' });
			await assert.rejects(badId, { code: 'invalid_id' });
			assert.equal(c.dropped, 3);
			assert.deepEqual(drops.map((d) => d.reason).sort(),
			    ['channel_not_allowed', 'invalid_event_name', 'invalid_id']);
			assert.ok(c.errors.every((e) => e.message.length > 0));
			const [m] = await broker.collect(s.names.queue, 1);
			assert.equal(m.body.id, id);
		} finally {
			await c.close();
		}
	});
});

describe('over HTTP', () => {
	it('posts when the WebSocket cannot connect', async (t) => {
		const closed = `ws://127.0.0.1:${await freePort()}`;
		const c = client(s, { wsUrl: closed, flushInterval: 10,
		    batchSize: 20 });
		try {
			const ps = [];
			for (let i = 0; i < 60; i++)
				ps.push(c.track('via-http', { i }));
			const bad = c.track('pusher:nope');
			const ids = await Promise.all(ps);
			await assert.rejects(bad, { code: 'invalid_event_name' });
			assert.notEqual(c.state, 'connected');
			const got = await broker.collectIds(s.names.queue, ids,
			    { timeout: 30000 });
			t.diagnostic(`RabbitMQ: ${got.messages.size} of 60, ` +
			    `duplicates ${got.dups}`);
			assert.deepEqual(got.missing, []);
			assert.equal(got.dups, 0);
			for (const [i, id] of ids.entries()) {
				const env = got.messages.get(id).body;
				assert.equal(env.source, 'http');
				assert.deepEqual(env.data, { i });
			}
		} finally {
			await c.close();
		}
	});

	it('a wrong key is not retried: dropped with the server\'s message',
	    async () => {
		const c = client(s, { key: 'no-such-key', wsUrl: undefined,
		    flushInterval: 10 });
		try {
			const p = c.track('x');
			await assert.rejects(p, (e) => {
				assert.equal(e.status, 401);
				assert.ok(e.message.length > 0);
				return true;
			});
			assert.equal(c.errors.length, 1);
			assert.equal(c.errors[0].status, 401);
		} finally {
			await c.close();
		}
	});
});

describe('persistence', () => {
	it('what a client queued while sluiced was down, the next one sends',
	    async (t) => {
		const d = await start({ name: 'cjs-persist', waitWs: true,
		    waitReady: true });
		await d.kill();
		const storage = new MemStorage();
		const a = client(d, { storage, closeTimeout: 1500 });
		const ps = [];
		for (let i = 0; i < 20; i++)
			ps.push(a.track('offline', { i }));
		const queued = a._queue.map((x) => x._event.id);
		await a.close();
		for (const p of ps)
			await assert.rejects(p, { code: 'closed' });
		assert.equal(a.acked, 0);
		assert.ok(storage.length >= 1);

		await d.restart({ waitWs: true });
		const b = client(d, { storage });
		try {
			await waitFor(() => b.acked === 20, { timeout: 20000,
			    what: 'the next client to send the queue' });
			const got = await broker.collectIds(d.names.queue, queued,
			    { timeout: 30000 });
			t.diagnostic(`RabbitMQ: ${got.messages.size} of 20, ` +
			    `duplicates ${got.dups}`);
			assert.deepEqual(got.missing, []);
			assert.equal(got.dups, 0);
			assert.deepEqual([...got.messages.values()].map((m) =>
			    m.body.data.i).sort((x, y) => x - y),
			    [...Array(20).keys()]);
		} finally {
			await b.close();
		}
		assert.equal(storage.length, 0);
	});
});
