// HTTP: the fallback when the WebSocket cannot connect (fetch, keepalive,
// text/plain, the key in the query), the answers (202, 207, 400, 401, 403
// and 413 dropped with the server's message, 413 of many events split, 429
// and 503 after Retry-After, no answer and 5xx with backoff), and the
// beacons when the page is hidden or goes away (chunks under 64 KB, the
// events kept queued, nothing sent twice by beacon, nothing offline).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { accept, fakeFetch } from './fakes.mjs';
import { env, ids, KEY } from './env.mjs';

const EVENTS_URL = `http://gw.test/v1/events?key=${KEY}`;

// A world whose WebSocket is refused; fetch answers with handler.
function httpEnv(handler, opts) {
	const e = env({ fetch: fakeFetch(handler), ...opts });
	e.srv.mode = 'refuse';
	return e;
}

describe('fallback', () => {
	it('posts once wsFailures attempts failed; back to the WebSocket ' +
	    'when it connects', async () => {
		const e = httpEnv(accept);
		const c = e.make({ flushInterval: 100 });
		const t0 = e.clock.now();
		const p1 = c.track('one', { n: 1 });
		await e.clock.tick(100);
		// One attempt failed (at 0): not yet.
		assert.equal(e.fetch.calls.length, 0);
		await e.clock.tick(650);
		// The second failed at 750: the batch is posted.
		assert.equal(e.fetch.calls.length, 1);
		const [req] = e.fetch.calls;
		assert.equal(req.url, EVENTS_URL);
		assert.equal(req.init.method, 'POST');
		assert.equal(req.init.keepalive, true);
		assert.deepEqual(req.init.headers, { 'Content-Type': 'text/plain' });
		assert.equal(req.events.length, 1);
		assert.equal(req.events[0].event, 'one');
		assert.equal(req.events[0].timestamp, t0);
		assert.equal(req.events[0].sent_at, t0 + 750);
		assert.equal(await p1, req.events[0].id);
		// The WebSocket comes back: events go there again.
		e.srv.mode = 'accept';
		await e.clock.tick(1500);
		assert.equal(c.state, 'connected');
		const p2 = c.track('two');
		await e.clock.tick(100);
		assert.equal(await p2, e.srv.sentIds[0]);
		assert.equal(e.fetch.calls.length, 1);
		await e.shutdown();
	});

	it('posts when the WebSocket failed for good (4001) or is not used',
	    async () => {
		const e = env();
		const c = e.make();
		await e.clock.tick(0);
		e.srv.last.serverClose(4004);
		await e.clock.tick(0);
		assert.equal(c.state, 'failed');
		const p = c.track('x');
		await e.clock.tick(1000);
		assert.equal(await p, e.fetch.calls[0].events[0].id);

		const e2 = env();
		const d = e2.make({ wsUrl: undefined });
		const q = d.track('y');
		await e2.clock.tick(1000);
		assert.equal(await q, e2.fetch.calls[0].events[0].id);
		assert.equal(e2.srv.sockets.length, 0);
		await e.shutdown();
		await e2.shutdown();
	});

	it('sends nothing while waiting for the first attempts without ' +
	    'httpUrl', async () => {
		const e = httpEnv(accept);
		const c = e.make({ httpUrl: undefined });
		c.track('x');
		await e.clock.tick(20000);
		assert.equal(e.fetch.calls.length, 0);
		assert.equal(c.queued, 1);
		await e.shutdown();
	});
});

describe('answers', () => {
	// Tracks events named by names over HTTP, the first answer from
	// first(req), later ones accepted; returns {e, c, ps, seen}.
	async function answer(first, names = ['a', 'b', 'c'], opts = {}) {
		let n = 0;
		const e = env({ fetch: fakeFetch((req) => (n++ ? accept(req) :
		    first(req))) });
		const c = e.make({ wsUrl: undefined, ...opts });
		const seen = e.watch(c);
		const ps = names.map((name) => c.track(name));
		await e.clock.tick(1000);
		return { e, c, ps, seen };
	}

	it('207: the accepted resolve, the rejected are dropped', async () => {
		const { e, c, ps, seen } = await answer((req) => ({ status: 207,
		    body: { accepted: 2, ids: [req.events[0].id, req.events[2].id],
		    errors: [{ index: 1, code: 'invalid_event_name',
		    message: 'reserved' }] } }));
		const sent = e.fetch.calls[0].events;
		assert.equal(await ps[0], sent[0].id);
		assert.equal(await ps[2], sent[2].id);
		await assert.rejects(ps[1], { code: 'invalid_event_name',
		    message: 'reserved' });
		assert.deepEqual(seen.errors.map((x) => x.code),
		    ['invalid_event_name']);
		assert.equal(c.dropped, 1);
		await e.clock.tick(30000);
		assert.equal(e.fetch.calls.length, 1);
		await e.shutdown();
	});

	it('400 with per-event errors drops each with its own', async () => {
		const { e, c, ps } = await answer(() => ({ status: 400,
		    body: { error: 'no_valid_event', message: 'no valid event',
		    errors: [{ index: 0, code: 'invalid_channel', message: 'c0' },
		    { index: 1, code: 'unknown_field', message: 'c1' }] } }),
		    ['a', 'b']);
		await assert.rejects(ps[0], { code: 'invalid_channel',
		    message: 'c0' });
		await assert.rejects(ps[1], { code: 'unknown_field', message: 'c1' });
		assert.equal(c.dropped, 2);
		assert.equal(c.queued, 0);
		await e.shutdown();
	});

	for (const [status, code, message] of [
		[400, 'invalid_json', 'the body is not JSON'],
		[401, 'unauthorized', 'unknown app key'],
		[403, 'forbidden_origin', 'origin not allowed'],
		[413, 'too_large', 'body over max_request_bytes'],
		[404, undefined, undefined],
	]) {
		it(`${status}: not retried; dropped with the server's message`,
		    async () => {
			const { e, c, ps, seen } = await answer(() => ({ status,
			    body: code ? { error: code, message } : undefined }),
			    ['only']);
			await assert.rejects(ps[0], (err) => {
				assert.equal(err.code, code || `http_${status}`);
				assert.equal(err.message, message || `HTTP ${status}`);
				assert.equal(err.status, status);
				return true;
			});
			assert.equal(seen.errors.length, 1);
			assert.equal(seen.errors[0].message, message ||
			    `HTTP ${status}`);
			assert.equal(seen.drops[0].events.length, 1);
			assert.equal(c.dropped, 1);
			await e.clock.tick(60000);
			assert.equal(e.fetch.calls.length, 1);
			await e.shutdown();
		});
	}

	it('413 for many events: split in halves and sent again', async () => {
		const e = env({ fetch: fakeFetch((req) => (req.events.length > 2 ?
		    { status: 413, body: { error: 'too_many_events',
		    message: 'max 2' } } : accept(req))) });
		const c = e.make({ wsUrl: undefined });
		const ps = Array.from({ length: 7 }, (_, i) => c.track(`e${i}`));
		await e.run(c.flush());
		assert.equal((await Promise.all(ps)).length, 7);
		const sizes = e.fetch.calls.map((r) => r.events.length);
		assert.equal(sizes[0], 7);
		assert.ok(sizes.slice(-3).every((n) => n <= 2), String(sizes));
		assert.equal(c.dropped, 0);
		await e.shutdown();
	});

	for (const status of [429, 503]) {
		it(`${status}: sent again after Retry-After, same ids`,
		    async () => {
			const { e, c, ps } = await answer(() => ({ status,
			    headers: { 'Retry-After': '3' },
			    body: { error: 'journal_full', message: 'full' } }));
			assert.equal(e.fetch.calls.length, 1);
			const t1 = e.clock.now();
			await e.clock.tick(2999);
			assert.equal(e.fetch.calls.length, 1);
			await e.clock.tick(1);
			assert.equal(e.fetch.calls.length, 2);
			const [first, again] = e.fetch.calls;
			assert.deepEqual(ids(again.events), ids(first.events));
			assert.ok(again.events.every((ev) => ev.sent_at === t1 + 3000));
			assert.deepEqual(await Promise.all(ps), ids(first.events));
			assert.equal(c.dropped, 0);
			await e.shutdown();
		});
	}

	it('no answer, then 500: sent again with backoff', async () => {
		let n = 0;
		const e = env({ fetch: fakeFetch((req) => {
			n++;
			if (n === 1)
				return new TypeError('fetch failed');
			if (n === 2)
				return { status: 500 };
			return accept(req);
		}) });
		const c = e.make({ wsUrl: undefined, flushInterval: 0 });
		const p = c.track('x');
		await e.clock.tick(0);
		assert.equal(e.fetch.calls.length, 1);
		await e.clock.tick(374);
		assert.equal(e.fetch.calls.length, 1);
		await e.clock.tick(1);
		assert.equal(e.fetch.calls.length, 2);
		await e.clock.tick(749);
		assert.equal(e.fetch.calls.length, 2);
		await e.clock.tick(1);
		assert.equal(e.fetch.calls.length, 3);
		assert.equal(await p, e.fetch.calls[2].events[0].id);
		assert.equal(new Set(e.fetch.calls.map((r) => r.events[0].id)).size,
		    1);
		await e.shutdown();
	});

	it('keepalive only within 64 KB in flight', async () => {
		let release;
		const gate = new Promise((resolve) => {
			release = resolve;
		});
		const e = env({ fetch: fakeFetch(async (req) => {
			await gate;
			return accept(req);
		}) });
		const c = e.make({ wsUrl: undefined, batchSize: 10 });
		const pad = 'k'.repeat(4000);
		const ps = Array.from({ length: 30 }, (_, i) => c.track('k',
		    { i, pad }));
		await e.clock.tick(0);
		const flags = e.fetch.calls.map((r) => r.init.keepalive);
		const sizes = e.fetch.calls.map((r) => Buffer.byteLength(r.init.body));
		assert.equal(flags.length, 3);
		let inflight = 0;
		for (const [i, ka] of flags.entries()) {
			assert.equal(ka, inflight + sizes[i] <= 65536, `batch ${i}`);
			if (ka)
				inflight += sizes[i];
		}
		assert.deepEqual(flags.slice(0, 1), [true]);
		assert.ok(flags.includes(false));
		release();
		await e.run(Promise.all(ps));
		assert.equal(c._keepaliveBytes, 0);
		await e.shutdown();
	});
});

describe('beacon', () => {
	// A client whose WebSocket and fetch get nowhere, with n events of
	// about size bytes queued.
	function queued(n, size, opts = {}) {
		const e = httpEnv(() => new Promise(() => {}), opts);
		const c = e.make({ maxQueue: 10000, maxQueueBytes: 1 << 24, ...opts });
		const pad = 'é'.repeat(Math.floor(size / 2));
		const ps = Array.from({ length: n }, (_, i) => c.track('b',
		    { i, pad }));
		return { e, c, ps };
	}

	it('on hidden: all of the queue in beacons under 64 KB, kept queued',
	    async () => {
		const { e, c } = queued(400, 600);
		await e.clock.tick(0);
		const t = e.clock.now();
		e.win.hide();
		const beacons = e.win.beacons;
		assert.ok(beacons.length >= 4, `${beacons.length} beacons`);
		for (const b of beacons) {
			assert.equal(b.url, EVENTS_URL);
			const bytes = Buffer.byteLength(b.body);
			assert.ok(bytes < 65536 && bytes <= 60000, `${bytes} bytes`);
			assert.ok(b.events.every((ev) => ev.sent_at === t));
		}
		const sent = beacons.flatMap((b) => ids(b.events));
		assert.deepEqual(sent, c._queue.map((x) => x._event.id));
		assert.equal(c.queued, 400);
		// pagehide after hidden: nothing goes twice.
		e.win.pagehide();
		assert.equal(e.win.beacons.length, beacons.length);
		assert.equal(c.state, 'closed');
		// The queue was saved: a later page sends it (same ids).
		const stored = JSON.parse(e.storage.getItem([...e.storage.map.keys()]
		    .find((k) => k.includes(':q:'))));
		assert.deepEqual(ids(stored), sent);
		await e.shutdown();
	});

	it('events not yet sent go first; refused chunks are tried later',
	    async () => {
		let budget = 2;
		const { e, c } = queued(300, 500, { beacon: () => budget-- > 0 });
		// Make the first 20 in flight over HTTP (after 2 failures).
		await e.clock.tick(1000);
		const busy = new Set(c._busy);
		const free = c._queue.map((x) => x._event.id).filter((id) => !busy.has(id));
		assert.ok(busy.size > 0 && free.length > 0);
		e.win.hide();
		assert.equal(e.win.beacons.length, 2);
		const sent = e.win.beacons.flatMap((b) => ids(b.events));
		assert.ok(sent.length > free.length);
		assert.deepEqual(sent.slice(0, free.length), free,
		    'events in flight went before ones not sent');
		e.win.show();
		budget = 100;
		e.win.hide();
		const all = e.win.beacons.flatMap((b) => ids(b.events));
		assert.equal(new Set(all).size, all.length, 'an event beaconed twice');
		assert.equal(all.length, 300);
		await e.shutdown();
	});

	it('on pagehide alone, too; nothing when offline', async () => {
		const { e, c } = queued(3, 100);
		e.win.pagehide();
		assert.equal(e.win.beacons.length, 1);
		assert.equal(e.win.beacons[0].events.length, 3);
		assert.equal(c.state, 'closed');

		const off = queued(3, 100, { online: false });
		off.e.win.hide();
		off.e.win.pagehide();
		assert.equal(off.e.win.beacons.length, 0);
		await e.shutdown();
		await off.e.shutdown();
	});

	it('a page restored from the back/forward cache goes on', async () => {
		const e = env();
		const c = e.make();
		await e.clock.tick(0);
		e.win.pagehide(true);
		assert.equal(c.state, 'connected');
		const p = c.track('back');
		await e.run(c.flush());
		assert.equal(await p, e.srv.sentIds[0]);
		await e.shutdown();
	});
});
