// test/env.mjs: one unit test's world: a FakeClock, a FakeServer, a
// MemStorage, a fake window and fetch, and make(opts), which makes a
// Sluice on them (the options override). shutdown() closes every client
// made. random is 0.5, so that backoffs are exact: 3/4 of their top.

import { Sluice } from '../src/index.js';
import { FakeClock, FakeServer, MemStorage, fakeFetch, fakeWindow } from
    './fakes.mjs';

export const KEY = 'web-key-0001';

export function env({ latency = 0, locks, online, beacon, fetch } = {}) {
	const clock = new FakeClock();
	const srv = new FakeServer(clock, { latency });
	const storage = new MemStorage();
	const win = fakeWindow({ locks, online, beacon });
	const clients = [];
	const e = {
		clock,
		srv,
		storage,
		win,
		fetch: fetch || fakeFetch(),
		clients,
		// A client on this world; opts override.
		make(opts = {}) {
			const c = new Sluice({
				key: KEY,
				wsUrl: 'ws://gw.test',
				httpUrl: 'http://gw.test',
				WebSocket: srv.WebSocket,
				storage,
				window: win,
				fetch: e.fetch,
				now: clock.now,
				setTimeout: clock.setTimeout,
				clearTimeout: clock.clearTimeout,
				random: () => 0.5,
				...opts,
			});
			clients.push(c);
			return c;
		},
		// Records every 'error', 'drop' and 'state' of c.
		watch(c) {
			const seen = { errors: [], drops: [], states: [] };
			c.on('error', (err) => seen.errors.push(err));
			c.on('drop', (d) => seen.drops.push(d));
			c.on('state', (s) => seen.states.push(s));
			return seen;
		},
		// Moves the clock on until p settles (at most ms); resolves
		// what p does.
		async run(p, ms = 120000) {
			let done = false;
			p.then(() => {
				done = true;
			}, () => {
				done = true;
			});
			for (let left = ms; ; ) {
				await clock.tick(0);
				if (done || left <= 0)
					break;
				const step = Math.min(left, Math.max(1, Math.min(
				    clock.nextIn(), 1000)));
				await clock.tick(step);
				left -= step;
			}
			return p;
		},
		async shutdown() {
			const all = clients.map((c) => c.close());
			await clock.tick(60000);
			await Promise.all(all);
		},
	};
	return e;
}

// The ids of events, in order.
export function ids(events) {
	return events.map((ev) => ev.id);
}

// Whether promise p has settled (after the pending jobs ran).
export async function settled(p) {
	let done = false;
	p.then(() => {
		done = true;
	}, () => {
		done = true;
	});
	await new Promise((resolve) => setImmediate(resolve));
	return done;
}
