// The queue: bounded by count and bytes (the oldest dropped, counted and
// reported), persisted in the storage and adopted by a later instance (a
// reload, a browser restart), never sent by two live instances at once
// (with Web Locks and with the lease in storage), identify() persisted,
// page(), a full storage, and close().

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FakeClock, FakeLocks, FakeServer, MemStorage, fakeWindow } from
    './fakes.mjs';
import { env, ids, KEY } from './env.mjs';

// The events stored under the queue keys of storage, by key.
function stored(storage) {
	const out = {};
	for (const [k, v] of storage.map) {
		if (k.startsWith(`sluice:${KEY}:q:`))
			out[k] = JSON.parse(v);
	}
	return out;
}

function storedIds(storage) {
	return Object.values(stored(storage)).flat().map((ev) => ev.id);
}

describe('bounds', () => {
	it('keeps maxQueue events: drops the oldest, counts and reports them',
	    async () => {
		const e = env();
		e.srv.mode = 'refuse';
		const c = e.make({ maxQueue: 5, httpUrl: undefined });
		const seen = e.watch(c);
		const ps = Array.from({ length: 8 }, (_, i) => c.track('e', { i }));
		await e.clock.tick(0);
		assert.equal(c.queued, 5);
		assert.equal(c.dropped, 3);
		assert.deepEqual(seen.drops.map((d) => d.reason),
		    ['queue_full', 'queue_full', 'queue_full']);
		assert.deepEqual(seen.drops.flatMap((d) => d.events.map((ev) =>
		    ev.data.i)), [0, 1, 2]);
		assert.equal(seen.errors.length, 0);
		for (const p of ps.slice(0, 3))
			await assert.rejects(p, { code: 'queue_full' });
		assert.deepEqual(storedIds(e.storage), c._queue.map((x) => x._event.id));
		assert.deepEqual(c._queue.map((x) => x._event.data.i), [3, 4, 5, 6, 7]);
		e.srv.mode = 'accept';
		await e.clock.tick(2000);
		assert.deepEqual((await Promise.all(ps.slice(3))).length, 5);
		assert.equal(c.acked, 5);
		await e.shutdown();
	});

	it('keeps maxQueueBytes bytes', async () => {
		const e = env();
		e.srv.mode = 'refuse';
		const c = e.make({ maxQueueBytes: 3000, httpUrl: undefined });
		const seen = e.watch(c);
		for (let i = 0; i < 20; i++)
			c.track('e', { i, pad: 'é'.repeat(200) });
		await e.clock.tick(0);
		const bytes = c._queue.reduce((n, x) => n + Buffer.byteLength(
		    JSON.stringify(x._event)), 0);
		assert.ok(bytes <= 3000, `${bytes} bytes queued`);
		assert.ok(bytes > 3000 - 500, `only ${bytes} bytes queued`);
		assert.equal(c.dropped + c.queued, 20);
		assert.equal(seen.drops.reduce((n, d) => n + d.events.length, 0),
		    c.dropped);
		assert.equal(c._queue.at(-1)._event.data.i, 19);
		await e.shutdown();
	});
});

describe('persistence', () => {
	it('a reload: the next page sends what the last one left', async () => {
		const e = env();
		e.srv.mode = 'refuse';
		const a = e.make({ httpUrl: undefined });
		const t0 = e.clock.now();
		const tracked = [a.track('a1'), a.track('a2'), a.track('a3')];
		await e.clock.tick(100);
		const left = storedIds(e.storage);
		assert.equal(left.length, 3);
		// The page goes away (no beacon: no httpUrl).
		e.win.pagehide();
		await e.clock.tick(0);
		e.srv.mode = 'accept';
		const b = e.make({ httpUrl: undefined });
		await e.clock.tick(299);
		assert.deepEqual(e.srv.sentIds, []);
		await e.clock.tick(1);
		await e.clock.tick(0);
		// B adopted them after the claim stood claimDelay (300 ms).
		assert.deepEqual(e.srv.sentIds, left);
		const sent = e.srv.publishes.flatMap((p) => p.events);
		assert.deepEqual(sent.map((ev) => ev.event), ['a1', 'a2', 'a3']);
		assert.ok(sent.every((ev) => ev.timestamp === t0));
		assert.ok(sent.every((ev) => ev.sent_at === t0 + 400));
		await e.clock.tick(0);
		assert.equal(b.acked, 3);
		assert.deepEqual(stored(e.storage), {});
		assert.deepEqual([...e.storage.map.keys()].filter((k) =>
		    k.includes(':l:')), []);
		// A stopped at pagehide: its promises will not settle by acks.
		assert.equal(a.state, 'closed');
		for (const p of tracked)
			await assert.rejects(p, { code: 'closed' });
		assert.equal(e.srv.sockets.length, 2);
		await e.shutdown();
	});

	it('a browser restart: a lease that ran out is adopted', async () => {
		const storage = new MemStorage();
		const clockA = new FakeClock();
		const srvA = new FakeServer(clockA);
		srvA.mode = 'refuse';
		const common = { key: KEY, wsUrl: 'ws://gw.test', storage,
		    window: {}, random: () => 0.5 };
		const { Sluice } = await import('../src/index.js');
		// A's clock stops: the browser quit with A's events queued.
		const a = new Sluice({ ...common, WebSocket: srvA.WebSocket,
		    now: clockA.now, setTimeout: clockA.setTimeout,
		    clearTimeout: clockA.clearTimeout });
		a.track('before-restart', { n: 1 });
		a.track('before-restart', { n: 2 });
		await clockA.tick(50);
		const left = storedIds(storage);
		assert.equal(left.length, 2);

		const clock = new FakeClock(clockA.now());
		const srv = new FakeServer(clock);
		const b = new Sluice({ ...common, WebSocket: srv.WebSocket,
		    now: clock.now, setTimeout: clock.setTimeout,
		    clearTimeout: clock.clearTimeout });
		const mine = b.track('after-restart');
		await clock.tick(0);
		// A's lease (30 s) still stands: B sends only its own.
		assert.equal(await mine, srv.sentIds[0]);
		await clock.tick(29000);
		assert.deepEqual(srv.sentIds, [await mine]);
		// B looks every 10 s: at 30 s the lease ran out; claim, 300 ms.
		await clock.tick(1300);
		assert.deepEqual(srv.sentIds.slice(1), left);
		assert.deepEqual(Object.keys(stored(storage)), []);
		assert.equal(b.acked, 3);
		const closing = b.close();
		await clock.tick(5000);
		await closing;
	});

	it('with Web Locks: adopted as soon as the page is gone', async () => {
		const locks = new FakeLocks();
		const pageA = locks.page();
		const e = env();
		e.srv.mode = 'refuse';
		const a = e.make({ httpUrl: undefined, locks: pageA });
		a.track('x');
		a.track('y');
		await e.clock.tick(10);
		const left = storedIds(e.storage);
		assert.equal(left.length, 2);
		assert.equal(locks.held.size, 1);
		// No lease keys with locks.
		assert.deepEqual([...e.storage.map.keys()].filter((k) =>
		    k.includes(':l:')), []);
		const srvB = new FakeServer(e.clock);
		const b = e.make({ httpUrl: undefined, locks: locks.page(),
		    WebSocket: srvB.WebSocket });
		await e.clock.tick(25000);
		assert.deepEqual(srvB.sentIds, [], 'B sent the events of a live A');
		pageA.die();
		a._closed = true;	// the page is gone: nothing of it runs
		await e.clock.tick(10000);
		assert.deepEqual(srvB.sentIds, left);
		assert.equal(b.acked, 2);
		assert.deepEqual(stored(e.storage), {});
		await e.shutdown();
	});
});

describe('two instances on one storage', () => {
	// Tabs A and B (each its own server, window and lock page) on one
	// storage, tracking while their WebSockets come and go.
	async function run({ withLocks }) {
		const clock = new FakeClock();
		const storage = new MemStorage();
		const locks = withLocks ? new FakeLocks() : null;
		const { Sluice } = await import('../src/index.js');
		const tabs = ['A', 'B'].map((name) => {
			const srv = new FakeServer(clock, { latency: 3 });
			const page = locks ? locks.page() : undefined;
			const c = new Sluice({ key: KEY, wsUrl: 'ws://gw.test',
			    WebSocket: srv.WebSocket, storage,
			    window: fakeWindow({ locks: page }), now: clock.now,
			    setTimeout: clock.setTimeout,
			    clearTimeout: clock.clearTimeout, random: Math.random,
			    flushInterval: 200, batchSize: 7 });
			return { name, srv, c, page, promises: [] };
		});
		for (let step = 0; step < 400; step++) {
			const tab = tabs[step % 2];
			tab.promises.push(tab.c.track(`${tab.name}-click`,
			    { step }));
			// Now and then a tab's server goes away for a while.
			if (step % 50 === 10)
				tab.srv.mode = 'refuse';
			if (step % 50 === 30)
				tab.srv.mode = 'accept';
			if (step % 50 === 12 && tab.srv.open.length)
				tab.srv.open[0].serverClose(1006);
			await clock.tick(137);
		}
		for (const tab of tabs)
			tab.srv.mode = 'accept';
		await clock.tick(60000);
		const [a, b] = tabs.map((tab) => new Set(tab.srv.sentIds));
		const both = [...a].filter((id) => b.has(id));
		assert.deepEqual(both, [], 'events sent by both tabs');
		for (const tab of tabs) {
			const got = await Promise.all(tab.promises);
			assert.equal(got.length, 200);
			for (const id of got) {
				assert.ok((tab.name === 'A' ? a : b).has(id),
				    `${tab.name} did not send its own ${id}`);
			}
			const closing = tab.c.close();
			await clock.tick(5000);
			await closing;
		}
		assert.deepEqual(stored(storage), {});
	}

	it('live tabs (lease in storage) each send only their own events',
	    () => run({ withLocks: false }));
	it('live tabs (Web Locks) each send only their own events',
	    () => run({ withLocks: true }));

	// A dies with events queued; B and C look at the same moment: one of
	// them takes A's events, never both.
	async function race({ withLocks }) {
		const clock = new FakeClock();
		const storage = new MemStorage();
		const locks = withLocks ? new FakeLocks() : null;
		const { Sluice } = await import('../src/index.js');
		const make = (srv, page, now = clock) => new Sluice({ key: KEY,
		    wsUrl: 'ws://gw.test', WebSocket: srv.WebSocket, storage,
		    window: fakeWindow({ locks: page }), now: now.now,
		    setTimeout: now.setTimeout, clearTimeout: now.clearTimeout,
		    random: () => 0.5 });
		const deadClock = new FakeClock();
		const dead = new FakeServer(deadClock);
		dead.mode = 'refuse';
		const pageA = locks ? locks.page() : undefined;
		const a = make(dead, pageA, deadClock);
		for (let i = 0; i < 10; i++)
			a.track('from-a', { i });
		await deadClock.tick(10);
		const left = storedIds(storage);
		assert.equal(left.length, 10);
		if (pageA)
			pageA.die();
		else
			clock.t += 31000;	// A's lease ran out
		const srvB = new FakeServer(clock);
		const srvC = new FakeServer(clock);
		const b = make(srvB, locks ? locks.page() : undefined);
		const c = make(srvC, locks ? locks.page() : undefined);
		await clock.tick(30000);
		const byB = srvB.sentIds.filter((id) => left.includes(id));
		const byC = srvC.sentIds.filter((id) => left.includes(id));
		assert.ok(byB.length === 0 || byC.length === 0,
		    `both sent A's events: B ${byB.length}, C ${byC.length}`);
		assert.deepEqual([...byB, ...byC].sort(), [...left].sort());
		for (const x of [b, c]) {
			const closing = x.close();
			await clock.tick(5000);
			await closing;
		}
		assert.deepEqual(stored(storage), {});
	}

	it('an orphan is adopted by one tab only (lease)',
	    () => race({ withLocks: false }));
	it('an orphan is adopted by one tab only (Web Locks)',
	    () => race({ withLocks: true }));
});

describe('identify and page', () => {
	it('identify() goes into later events and into the next page load',
	    async () => {
		const e = env();
		const a = e.make();
		await e.clock.tick(0);
		a.track('anon', { x: 1 });
		a.identify('user-7', { plan: 'pro' });
		a.track('obj', { x: 2 });
		a.track('none');
		a.track('arr', [1, 2]);
		await e.run(a.flush());
		const sent = e.srv.publishes.flatMap((p) => p.events);
		assert.deepEqual(sent.map((ev) => ev.data), [{ x: 1 },
		    { x: 2, user: { id: 'user-7', traits: { plan: 'pro' } } },
		    { user: { id: 'user-7', traits: { plan: 'pro' } } }, [1, 2]]);
		const b = e.make();
		b.track('later');
		await e.run(b.flush());
		assert.deepEqual(e.srv.publishes.at(-1).events[0].data,
		    { user: { id: 'user-7', traits: { plan: 'pro' } } });
		b.identify('user-8');
		b.track('later2');
		b.identify(null);
		b.track('later3');
		await e.run(b.flush());
		assert.deepEqual(e.srv.publishes.at(-1).events.map((ev) => ev.data),
		    [{ user: { id: 'user-8' } }, undefined]);
		assert.equal(e.make().user, null);
		await e.shutdown();
	});

	it('page() tracks a page_view of the page', async () => {
		const e = env();
		const c = e.make();
		await e.clock.tick(0);
		const id = c.page({ section: 'a' }, { channel: 'events' });
		await e.run(c.flush());
		const [ev] = e.srv.publishes[0].events;
		assert.equal(await id, ev.id);
		assert.equal(ev.event, 'page_view');
		assert.equal(ev.channel, 'events');
		assert.deepEqual(ev.data, { url: 'https://app.example/shop?page=2',
		    path: '/shop', referrer: 'https://search.example/?q=shop',
		    title: 'Shop', section: 'a' });
		await e.shutdown();
	});
});

describe('storage and close', () => {
	it('a full storage is reported; the events still go out', async () => {
		const e = env();
		e.storage.quota = 600;
		const c = e.make();
		const seen = e.watch(c);
		await e.clock.tick(0);
		const ps = Array.from({ length: 5 }, (_, i) => c.track('e',
		    { i, pad: 'z'.repeat(100) }));
		await e.clock.tick(0);
		assert.ok(seen.errors.some((x) => x.code === 'storage'),
		    'no storage error');
		await e.run(c.flush());
		assert.equal((await Promise.all(ps)).length, 5);
		await e.shutdown();
	});

	it('close() flushes first; what is left stays stored', async () => {
		const e = env();
		const c = e.make({ httpUrl: undefined });
		const seen = e.watch(c);
		await e.clock.tick(0);
		const sent = c.track('sent');
		const closing = c.close();
		await e.clock.tick(0);
		assert.equal(await sent, e.srv.sentIds[0]);
		await closing;
		assert.equal(c.state, 'closed');
		assert.equal(seen.states.at(-1), 'closed');
		await assert.rejects(c.track('late'), { code: 'closed' });

		const e2 = env();
		e2.srv.mode = 'refuse';
		const d = e2.make({ httpUrl: undefined, closeTimeout: 1000 });
		const p = d.track('kept');
		const closing2 = d.close();
		await e2.clock.tick(999);
		assert.equal(d.state === 'closed', false);
		await e2.clock.tick(1);
		await closing2;
		await assert.rejects(p, { code: 'closed' });
		assert.equal(storedIds(e2.storage).length, 1);
		// No lease: the next instance takes it at once.
		assert.deepEqual([...e2.storage.map.keys()].filter((k) =>
		    k.includes(':l:')), []);
		await e.shutdown();
	});

	it('without a storage the queue lives in memory', async () => {
		const e = env();
		const c = e.make({ storage: null });
		await e.clock.tick(0);
		const p = c.track('m');
		await e.run(c.flush());
		assert.equal(await p, e.srv.sentIds[0]);
		assert.equal(e.storage.writes, 0);
		await e.shutdown();
	});
});

describe('ids', () => {
	it('an id given is kept', async () => {
		const e = env();
		const c = e.make();
		await e.clock.tick(0);
		const p = c.track('x', null, { id: 'order-123' });
		await e.run(c.flush());
		assert.equal(await p, 'order-123');
		assert.deepEqual(ids(e.srv.publishes[0].events), ['order-123']);
		await e.shutdown();
	});
});
