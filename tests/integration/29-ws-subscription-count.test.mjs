// 29-ws-subscription-count: pusher_internal:subscription_count with
// unmodified pusher-js 8 (channel.bind('pusher:subscription_count')): with
// subscription_count = yes, the subscribers of public and private channels
// are told the count as clients join and leave, at most one message a
// channel every subscription_count_interval_ms (a burst of joins or leaves
// is coalesced), and never on presence channels; with it off, nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { disconnect, disconnectAll, mustSubscribe, pusherFor } from
    '../lib/pusher.mjs';
import { TEST_APP, post, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, signChannel, signPresence } from '../lib/ws.mjs';

const INTERVAL_MS = 500;
const COUNTED = { id: 'counted', key: 'counted-key-0001',
    secret: 'counted-secret-0123456789', publish_channels: ['room-*',
    'private-*', 'presence-*'], public_channels: ['room-*'],
    subscription_count: 'yes', subscription_count_interval_ms: INTERVAL_MS };
// subscription_count is off by default.
const APP = { ...TEST_APP };

const { s } = useSluiced({ name: 'ws-subcount', waitWs: true,
    apps: [COUNTED, APP] });

let serial = 0;

function channelName(prefix) {
	serial++;
	return `${prefix}${process.pid}-${serial}`;
}

// The subscription_count messages a pusher-js channel got: {count, at}.
function counts(channel) {
	return channel.log.filter((e) => e.event ===
	    'pusher:subscription_count').map((e) => ({ count:
	    e.data.subscription_count, at: e.at }));
}

// Waits until the last count channel was told is n.
function countIs(channel, n, { timeout = 15000 } = {}) {
	return waitFor(() => {
		const all = counts(channel);
		return all.length > 0 && all[all.length - 1].count === n;
	}, { timeout, interval: 20, what: () => `a count of ${n} on ` +
	    `${channel.name} (told ${JSON.stringify(counts(channel))})` });
}

// Opens n raw connections of app to d (not subscribed yet).
async function openRaw(n, app) {
	const out = [];
	for (let i = 0; i < n; i++)
		out.push(await connect(s, { key: app.key }));
	return out;
}

/*
 * Checks the counts told since index from were coalesced: consecutive
 * messages at least the interval apart (less a little for timers), and so
 * no more of them than the time they spread over allows.
 */
function assertCoalesced(channel, from, what) {
	const told = counts(channel).slice(from);
	assert.ok(told.length > 0, `${what}: no count at all`);
	for (let i = 1; i < told.length; i++) {
		const gap = told[i].at - told[i - 1].at;
		assert.ok(gap >= INTERVAL_MS - 60, `${what}: two counts ` +
		    `${gap} ms apart (interval ${INTERVAL_MS} ms): ` +
		    JSON.stringify(told));
	}
	return told;
}

describe('subscription_count with pusher-js', () => {
	it('counts follow joins and leaves on a public channel', {
	    timeout: 60000 }, async () => {
		const name = channelName('room-');
		const opts = { app: COUNTED };
		const first = pusherFor(s, opts);
		const second = pusherFor(s, opts);
		const third = pusherFor(s, opts);
		try {
			const a = await mustSubscribe(first, name);
			await countIs(a, 1);
			const b = await mustSubscribe(second, name);
			await countIs(a, 2);
			await countIs(b, 2);
			// pusher-js keeps the last count on the channel.
			assert.equal(b.subscriptionCount, 2);
			const c = await mustSubscribe(third, name);
			await countIs(a, 3);
			await countIs(c, 3);
			second.unsubscribe(name);
			await countIs(a, 2);
			await countIs(c, 2);
			disconnect(third);
			await countIs(a, 1);
			assert.equal(a.subscriptionCount, 1);
			// Every count was right when told, never below 1.
			for (const t of counts(a))
				assert.ok(t.count >= 1 && t.count <= 3);
		} finally {
			disconnectAll([first, second, third]);
		}
	});

	it('and on a private channel', { timeout: 60000 }, async () => {
		const name = channelName('private-counted-');
		const opts = { app: COUNTED };
		const first = pusherFor(s, opts);
		const raw = await connect(s, { key: COUNTED.key });
		try {
			const a = await mustSubscribe(first, name);
			await countIs(a, 1);
			await raw.mustSubscribe(name, { auth: signChannel(COUNTED,
			    raw.socketId, name) });
			await countIs(a, 2);
			// On the wire: data a JSON string.
			const m = await raw.next({ event:
			    'pusher_internal:subscription_count', channel: name });
			assert.equal(typeof m.data, 'string', m.raw);
			assert.deepEqual(m.payload, { subscription_count: 2 }, m.raw);
			await raw.close();
			await countIs(a, 1);
		} finally {
			disconnectAll([first]);
			await closeAll([raw]);
		}
	});

	it('a burst of joins and of leaves is coalesced', { timeout: 60000 },
	    async () => {
		const name = channelName('room-burst-');
		const BURST = 40;
		const watcher = pusherFor(s, { app: COUNTED });
		const raws = await openRaw(BURST, COUNTED);
		try {
			const w = await mustSubscribe(watcher, name);
			await countIs(w, 1);
			// The next count may go at once.
			await sleep(INTERVAL_MS + 100);
			let from = counts(w).length;
			let t0 = Date.now();
			await Promise.all(raws.map((c) => c.mustSubscribe(name)));
			let spread = Date.now() - t0;
			await countIs(w, BURST + 1);
			await sleep(2 * INTERVAL_MS);
			let told = assertCoalesced(w, from, 'joins');
			assert.equal(told[told.length - 1].count, BURST + 1);
			// At most one at once and one an interval after.
			const allowed = Math.ceil(spread / INTERVAL_MS) + 2;
			assert.ok(told.length <= allowed, `${told.length} counts ` +
			    `for ${BURST} joins in ${spread} ms: ` +
			    JSON.stringify(told));
			// Each raw subscriber is told too, coalesced the same.
			const heard = raws[0].drainInbox({ event:
			    'pusher_internal:subscription_count' });
			assert.ok(heard.length >= 1 && heard.length <= allowed,
			    `${heard.length} counts to one of the burst`);
			assert.equal(heard[heard.length - 1].payload
			    .subscription_count, BURST + 1);

			from = counts(w).length;
			t0 = Date.now();
			await closeAll(raws);
			spread = Date.now() - t0;
			await countIs(w, 1);
			await sleep(2 * INTERVAL_MS);
			told = assertCoalesced(w, from, 'leaves');
			assert.ok(told.length <= Math.ceil(spread / INTERVAL_MS) + 2,
			    `${told.length} counts for ${BURST} leaves in ` +
			    `${spread} ms: ${JSON.stringify(told)}`);
		} finally {
			disconnectAll([watcher]);
			await closeAll(raws);
		}
	});

	it('never on presence channels', { timeout: 60000 }, async () => {
		const name = channelName('presence-counted-');
		const member = (id) => ({ user_id: id, user_info: {} });
		const a = await connect(s, { key: COUNTED.key });
		const b = await connect(s, { key: COUNTED.key });
		try {
			await a.mustSubscribe(name, { auth: signPresence(COUNTED,
			    a.socketId, name, member('a')) });
			await b.mustSubscribe(name, { auth: signPresence(COUNTED,
			    b.socketId, name, member('b')) });
			await a.next({ event: 'pusher_internal:member_added',
			    channel: name });
			await sleep(2 * INTERVAL_MS);
			assert.deepEqual(a.drainInbox({ event:
			    'pusher_internal:subscription_count' }), []);
			assert.deepEqual(b.drainInbox({ event:
			    'pusher_internal:subscription_count' }), []);
		} finally {
			await closeAll([a, b]);
		}
	});

	it('with subscription_count off, none', { timeout: 60000 },
	    async () => {
		const name = channelName('game-uncounted-');
		const first = pusherFor(s, { app: APP });
		const second = pusherFor(s, { app: APP });
		try {
			const a = await mustSubscribe(first, name);
			await mustSubscribe(second, name);
			// An event posted after the joins comes after any count
			// they could have caused, and after the interval.
			await sleep(1100);
			const r = await post(s.url, [{ event: 'marker', channel:
			    name }], { key: APP.key });
			assert.equal(r.status, 202, r.text);
			await waitFor(() => a.got.length > 0, { what: 'the marker' });
			assert.deepEqual(counts(a), []);
		} finally {
			disconnectAll([first, second]);
		}
	});
});
