// Batching and acknowledgements over the WebSocket: batches cut by count,
// time and bytes; every event with its id, timestamp and sent_at; a batch
// without an answer in ackTimeout, or on a connection that died, is sent
// again with the same ids and a new sent_at; nacks resolve what was
// accepted, drop what was rejected, and hold on retry_after.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { env, ids, settled } from './env.mjs';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('batching', () => {
	it('cuts batches by size and sends the rest after flushInterval',
	    async () => {
		const e = env();
		const c = e.make({ batchSize: 3, flushInterval: 1000 });
		await e.clock.tick(0);
		assert.equal(c.state, 'connected');
		const t0 = e.clock.now();
		const ps = [1, 2, 3, 4, 5, 6, 7].map((i) => c.track('click',
		    { i }));
		await e.clock.tick(0);
		assert.deepEqual(e.srv.publishes.map((p) => p.events.length),
		    [3, 3]);
		await e.clock.tick(999);
		assert.equal(e.srv.publishes.length, 2, 'the 7th went early');
		await e.clock.tick(1);
		assert.deepEqual(e.srv.publishes.map((p) => p.events.length),
		    [3, 3, 1]);
		const got = await Promise.all(ps);
		assert.deepEqual(got, e.srv.sentIds);
		const sent = e.srv.publishes.flatMap((p) => p.events);
		for (const [i, ev] of sent.entries()) {
			assert.match(ev.id, UUID7);
			assert.equal(ev.event, 'click');
			assert.deepEqual(ev.data, { i: i + 1 });
			assert.equal(ev.timestamp, t0);
			assert.equal(ev.sent_at, i < 6 ? t0 : t0 + 1000);
			assert.equal(ev.channel, undefined);
		}
		assert.equal(c.queued, 0);
		assert.equal(c.acked, 7);
		await e.shutdown();
	});

	it('gathers events tracked within flushInterval into one batch',
	    async () => {
		const e = env();
		const c = e.make({ batchSize: 50, flushInterval: 500,
		    channel: 'game-1' });
		await e.clock.tick(0);
		const t0 = e.clock.now();
		const a = c.track('a');
		await e.clock.tick(200);
		const b = c.track('b', [1, 2], { channel: 'events', id: 'my-id-1' });
		await e.clock.tick(200);
		const d = c.track('d', null);
		await e.clock.tick(99);
		assert.equal(e.srv.publishes.length, 0);
		await e.clock.tick(1);
		assert.equal(e.srv.publishes.length, 1);
		const [p] = e.srv.publishes;
		assert.deepEqual(p.events.map((ev) => [ev.event, ev.channel,
		    ev.timestamp - t0, ev.sent_at - t0]), [['a', 'game-1', 0, 500],
		    ['b', 'events', 200, 500], ['d', 'game-1', 400, 500]]);
		assert.equal(p.events[0].data, undefined);
		assert.deepEqual(p.events[1].data, [1, 2]);
		assert.equal(p.events[1].id, 'my-id-1');
		assert.equal(p.events[2].data, null);
		assert.deepEqual(await Promise.all([a, b, d]), ids(p.events));
		await e.shutdown();
	});

	it('keeps a batch under batchBytes', async () => {
		const e = env();
		const c = e.make({ batchSize: 100, batchBytes: 2000 });
		await e.clock.tick(0);
		const pad = 'x'.repeat(400);
		const ps = Array.from({ length: 10 }, (_, i) => c.track('big',
		    { i, pad }));
		await e.run(c.flush());
		await Promise.all(ps);
		assert.ok(e.srv.publishes.length >= 3);
		for (const p of e.srv.publishes) {
			const n = Buffer.byteLength(JSON.stringify(p.events));
			assert.ok(n <= 2000, `a batch of ${n} bytes`);
		}
		assert.equal(e.srv.sentIds.length, 10);
		await e.shutdown();
	});

	it('drops an event too large for any batch, at once', async () => {
		const e = env();
		const c = e.make({ batchBytes: 1000 });
		const seen = e.watch(c);
		await e.clock.tick(0);
		const p = c.track('huge', { pad: 'y'.repeat(2000) });
		await assert.rejects(p, { code: 'event_too_large' });
		assert.equal(c.queued, 0);
		assert.equal(seen.drops.length, 1);
		assert.equal(seen.errors[0].code, 'event_too_large');
		await e.shutdown();
	});

	it('keeps at most maxInflight batches waiting', async () => {
		const e = env();
		e.srv.autoAck = false;
		const c = e.make({ batchSize: 1, maxInflight: 2 });
		await e.clock.tick(0);
		const ps = [1, 2, 3, 4].map((i) => c.track('x', { i }));
		await e.clock.tick(0);
		assert.equal(e.srv.publishes.length, 2);
		e.srv.ack(e.srv.publishes[1]);
		await e.clock.tick(0);
		assert.equal(e.srv.publishes.length, 3);
		assert.equal(await ps[1], e.srv.sentIds[1]);
		assert.equal(await settled(ps[0]), false);
		e.srv.autoAck = true;
		e.srv.ack(e.srv.publishes[0]);
		e.srv.ack(e.srv.publishes[2]);
		await e.clock.tick(0);
		await Promise.all(ps);
		assert.equal(e.srv.publishes.length, 4);
		await e.shutdown();
	});
});

describe('acknowledgements', () => {
	it('sends a batch again with the same ids when no ack comes in ' +
	    'ackTimeout', async () => {
		const e = env();
		e.srv.autoAck = false;
		const c = e.make({ ackTimeout: 4000 });
		await e.clock.tick(0);
		const t0 = e.clock.now();
		const ps = [c.track('a'), c.track('b')];
		c.flush();
		await e.clock.tick(0);
		assert.equal(e.srv.publishes.length, 1);
		await e.clock.tick(3999);
		assert.equal(e.srv.publishes.length, 1);
		await e.clock.tick(1);
		assert.equal(e.srv.publishes.length, 2);
		const [first, again] = e.srv.publishes;
		assert.deepEqual(ids(again.events), ids(first.events));
		assert.notEqual(again.ref, first.ref);
		assert.deepEqual(first.events.map((ev) => ev.sent_at), [t0, t0]);
		assert.deepEqual(again.events.map((ev) => ev.sent_at),
		    [t0 + 4000, t0 + 4000]);
		assert.deepEqual(again.events.map((ev) => ev.timestamp), [t0, t0]);
		await e.clock.tick(4000);
		assert.equal(e.srv.publishes.length, 3);
		// The ack of the first send still counts; later ones do no harm.
		e.srv.ack(first);
		await e.clock.tick(0);
		assert.deepEqual(await Promise.all(ps), ids(first.events));
		e.srv.ack(again);
		await e.clock.tick(10000);
		assert.equal(e.srv.publishes.length, 3);
		assert.equal(c.acked, 2);
		assert.equal(c.queued, 0);
		await e.shutdown();
	});

	it('sends again on a new connection when the old one dies',
	    async () => {
		const e = env();
		e.srv.autoAck = false;
		const c = e.make();
		const seen = e.watch(c);
		await e.clock.tick(0);
		const p = c.track('a');
		c.flush();
		await e.clock.tick(0);
		const [first] = e.srv.publishes;
		e.srv.sockets[0].serverClose(1006);
		e.srv.autoAck = true;
		await e.clock.tick(374);
		assert.equal(e.srv.sockets.length, 1);
		await e.clock.tick(1);
		assert.equal(e.srv.sockets.length, 2);
		assert.equal(e.srv.publishes.length, 2);
		assert.equal(e.srv.publishes[1].sock, e.srv.sockets[1]);
		assert.deepEqual(ids(e.srv.publishes[1].events), ids(first.events));
		assert.equal(await p, first.events[0].id);
		assert.deepEqual(seen.states, ['connected', 'disconnected',
		    'connecting', 'connected']);
		await e.shutdown();
	});

	it('nack: resolves the accepted, drops and reports the rejected',
	    async () => {
		const e = env();
		e.srv.onPublish = (p) => e.srv.nack(p, [p.events[0].id,
		    p.events[2].id], [{ index: 1, code: 'invalid_event_name',
		    message: 'event: "pusher:x" is reserved' }]);
		const c = e.make();
		const seen = e.watch(c);
		await e.clock.tick(0);
		const ps = [c.track('ok1'), c.track('pusher:x'), c.track('ok2')];
		await e.run(c.flush());
		const [p] = e.srv.publishes;
		assert.equal(await ps[0], p.events[0].id);
		assert.equal(await ps[2], p.events[2].id);
		await assert.rejects(ps[1], (err) => {
			assert.equal(err.code, 'invalid_event_name');
			assert.equal(err.message, 'event: "pusher:x" is reserved');
			assert.equal(err.events[0].id, p.events[1].id);
			return true;
		});
		assert.equal(seen.errors.length, 1);
		assert.equal(seen.errors[0].code, 'invalid_event_name');
		assert.equal(seen.drops.length, 1);
		assert.equal(seen.drops[0].reason, 'invalid_event_name');
		assert.deepEqual(ids(seen.drops[0].events), [p.events[1].id]);
		assert.equal(c.dropped, 1);
		assert.equal(c.acked, 2);
		assert.equal(c.queued, 0);
		await e.clock.tick(30000);
		assert.equal(e.srv.publishes.length, 1);
		await e.shutdown();
	});

	for (const code of ['journal_full', 'stopping', 'rate_limited']) {
		it(`nack ${code}: waits retry_after, then sends the same ids`,
		    async () => {
			const e = env();
			e.srv.onPublish = (p) => {
				if (e.srv.publishes.length === 1)
					e.srv.nack(p, [], [{ index: null, code,
					    message: 'wait' }], { retry_after: 7 });
				else
					e.srv.ack(p);
			};
			const c = e.make({ flushInterval: 10 });
			await e.clock.tick(0);
			const ps = [c.track('a'), c.track('b')];
			await e.clock.tick(10);
			const t1 = e.clock.now();
			assert.equal(e.srv.publishes.length, 1);
			const later = c.track('c');
			await e.clock.tick(6999);
			assert.equal(e.srv.publishes.length, 1,
			    'sent before retry_after');
			await e.clock.tick(1);
			assert.ok(e.srv.publishes.length >= 2);
			const again = e.srv.publishes[1];
			assert.deepEqual(ids(again.events).slice(0, 2),
			    ids(e.srv.publishes[0].events));
			assert.equal(again.events[0].sent_at, t1 + 7000);
			await Promise.all([...ps, later]);
			assert.equal(c.dropped, 0);
			await e.shutdown();
		});
	}

	it('nack journal_unavailable: retried after retryAfter', async () => {
		const e = env();
		let n = 0;
		e.srv.onPublish = (p) => (n++ ? e.srv.ack(p) : e.srv.nack(p, [],
		    [{ index: null, code: 'journal_unavailable', message: 'x' }]));
		const c = e.make({ retryAfter: 2 });
		await e.clock.tick(0);
		const p = c.track('a');
		c.flush();
		await e.clock.tick(1999);
		assert.equal(e.srv.publishes.length, 1);
		await e.clock.tick(1);
		assert.equal(await p, e.srv.publishes[1].events[0].id);
		await e.shutdown();
	});

	it('nack too_many_events: halves the batches until they fit',
	    async () => {
		const e = env();
		e.srv.onPublish = (p) => (p.events.length > 4 ? e.srv.nack(p, [],
		    [{ index: null, code: 'too_many_events', message: 'max 4' }]) :
		    e.srv.ack(p));
		const c = e.make({ batchSize: 10 });
		await e.clock.tick(0);
		const ps = Array.from({ length: 10 }, (_, i) => c.track('x', { i }));
		await e.run(c.flush());
		await Promise.all(ps);
		// 10 refused; then the two halves of 5 at once, both refused;
		// then batches of 3 at most.
		const sizes = e.srv.publishes.map((p) => p.events.length);
		assert.deepEqual(sizes.slice(0, 3), [10, 5, 5]);
		assert.ok(sizes.slice(3).every((n) => n <= 3), String(sizes));
		assert.equal(new Set(e.srv.publishes.filter((p) =>
		    p.events.length <= 4).flatMap((p) => ids(p.events))).size, 10);
		assert.equal(c.dropped, 0);
		await e.shutdown();
	});

	it('nack invalid_body: drops the batch', async () => {
		const e = env();
		e.srv.onPublish = (p) => e.srv.nack(p, [], [{ index: null,
		    code: 'invalid_body', message: 'events must be objects' }]);
		const c = e.make();
		const seen = e.watch(c);
		await e.clock.tick(0);
		const ps = [c.track('a'), c.track('b')];
		await e.run(c.flush());
		for (const p of ps)
			await assert.rejects(p, { code: 'invalid_body' });
		assert.equal(c.dropped, 2);
		assert.equal(seen.drops[0].events.length, 2);
		await e.shutdown();
	});
});
