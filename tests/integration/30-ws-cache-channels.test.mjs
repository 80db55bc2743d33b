// 30-ws-cache-channels: cache channels (cache-*, private-cache-*,
// presence-cache-*) with unmodified pusher-js 8: a new subscriber gets the
// channel's last event right after subscription_succeeded; with none, it
// gets pusher:cache_miss; the kept event expires after cache_ttl.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { disconnectAll, emitted, mustSubscribe, pusherFor, received } from
    '../lib/pusher.mjs';
import { post, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, signChannel, signPresence } from '../lib/ws.mjs';

const CACHE_CHANNELS = ['cache-*', 'private-cache-*', 'presence-cache-*'];
const APP = { id: 'cached', key: 'cached-key-0001',
    secret: 'cached-secret-0123456789', publish_channels: CACHE_CHANNELS,
    public_channels: ['cache-*'] };
const TTL_S = 2;
const SHORT = { id: 'short', key: 'short-key-0001',
    secret: 'short-secret-0123456789', publish_channels: CACHE_CHANNELS,
    public_channels: ['cache-*'], cache_ttl: TTL_S };

const { s } = useSluiced({ name: 'ws-cache', waitWs: true,
    apps: [APP, SHORT] });

let serial = 0;

function channelName(prefix) {
	serial++;
	return `${prefix}${process.pid}-${serial}`;
}

// Posts events of app; throws unless all were accepted.
async function postOk(events, app = APP) {
	const r = await post(s.url, events, { key: app.key });
	assert.equal(r.status, 202, r.text);
	return r.json.ids;
}

// The events a pusher-js channel emitted, by name, in order.
function names(channel) {
	return channel.log.map((e) => e.event);
}

/*
 * Subscribes a raw connection c (whose inbox is emptied first) and
 * resolves the first message after subscription_succeeded, taken out of
 * the inbox: the cached event or the cache_miss.
 */
async function firstAfterSubscribe(c, channel, opts) {
	c.drainInbox();
	await c.mustSubscribe(channel, opts);
	await waitFor(() => c.inbox.length > 0, { what: () => 'a message ' +
	    `after subscribing to ${channel}` });
	return c.inbox.shift();
}

describe('cache channels with pusher-js', () => {
	it('a new subscriber gets the last event right after subscribing', {
	    timeout: 60000 }, async () => {
		const name = channelName('cache-score-');
		await postOk([{ event: 'score', channel: name, data:
		    { points: 5 } }]);
		await postOk([{ event: 'score', channel: name, data:
		    { points: 7 } }]);
		const p = pusherFor(s);
		const raw = await connect(s, { key: APP.key });
		try {
			const ch = await mustSubscribe(p, name);
			const [e] = await received(ch, 1);
			assert.equal(e.event, 'score');
			assert.deepEqual(e.data, { points: 7 });
			assert.deepEqual(names(ch).slice(0, 2),
			    ['pusher:subscription_succeeded', 'score']);
			assert.ok(!names(ch).includes('pusher:cache_miss'));
			// On the wire: the next message after the success.
			const m = await firstAfterSubscribe(raw, name);
			assert.equal(m.event, 'score', m.raw);
			assert.equal(m.channel, name, m.raw);
			assert.deepEqual(m.payload, { points: 7 }, m.raw);
			// Live events still come as usual.
			await postOk([{ event: 'score', channel: name, data:
			    { points: 9 } }]);
			const got = await received(ch, 2);
			assert.deepEqual(got[1].data, { points: 9 });
			await sleep(200);
			assert.equal(ch.got.length, 2, JSON.stringify(ch.got));
		} finally {
			disconnectAll([p]);
			await closeAll([raw]);
		}
	});

	it('without a cached event: pusher:cache_miss', { timeout: 60000 },
	    async () => {
		const name = channelName('cache-empty-');
		const p = pusherFor(s);
		const later = pusherFor(s);
		const raw = await connect(s, { key: APP.key });
		try {
			const ch = await mustSubscribe(p, name);
			await emitted(ch, 'pusher:cache_miss');
			assert.deepEqual(names(ch).slice(0, 2),
			    ['pusher:subscription_succeeded', 'pusher:cache_miss']);
			const m = await firstAfterSubscribe(raw, name);
			assert.equal(m.event, 'pusher:cache_miss', m.raw);
			assert.equal(m.channel, name, m.raw);
			// An event published now is kept for the next one.
			await postOk([{ event: 'state', channel: name, data: 'on' }]);
			const [e] = await received(ch, 1);
			assert.equal(e.data, 'on');
			const l = await mustSubscribe(later, name);
			const [kept] = await received(l, 1);
			assert.equal(kept.event, 'state');
			assert.equal(kept.data, 'on');
			assert.ok(!names(l).includes('pusher:cache_miss'));
		} finally {
			disconnectAll([p, later]);
			await closeAll([raw]);
		}
	});

	it('private-cache- and presence-cache- channels too', {
	    timeout: 60000 }, async () => {
		const privateName = channelName('private-cache-');
		const presenceName = channelName('presence-cache-');
		const member = { user_id: 'ann', user_info: {} };
		const a = await connect(s, { key: APP.key });
		const b = await connect(s, { key: APP.key });
		try {
			let m = await firstAfterSubscribe(a, privateName, { auth:
			    signChannel(APP, a.socketId, privateName) });
			assert.equal(m.event, 'pusher:cache_miss', m.raw);
			m = await firstAfterSubscribe(a, presenceName, { auth:
			    signPresence(APP, a.socketId, presenceName, member) });
			assert.equal(m.event, 'pusher:cache_miss', m.raw);
			await postOk([
				{ event: 'p', channel: privateName, data: { n: 1 } },
				{ event: 'q', channel: presenceName, data: { n: 2 } },
			]);
			await a.take((x) => x.event === 'p' || x.event === 'q', 2);
			m = await firstAfterSubscribe(b, privateName, { auth:
			    signChannel(APP, b.socketId, privateName) });
			assert.equal(m.event, 'p', m.raw);
			assert.deepEqual(m.payload, { n: 1 }, m.raw);
			m = await firstAfterSubscribe(b, presenceName, { auth:
			    signPresence(APP, b.socketId, presenceName,
			    { user_id: 'ben', user_info: {} }) });
			assert.equal(m.event, 'q', m.raw);
			assert.deepEqual(m.payload, { n: 2 }, m.raw);
		} finally {
			await closeAll([a, b]);
		}
	});

	it('the cached event expires after cache_ttl', { timeout: 60000 },
	    async () => {
		const name = channelName('cache-short-');
		const opts = { app: SHORT };
		const early = pusherFor(s, opts);
		const late = pusherFor(s, opts);
		try {
			await postOk([{ event: 'tick', channel: name, data:
			    { n: 1 } }], SHORT);
			const t0 = Date.now();
			const e = await mustSubscribe(early, name);
			const [got] = await received(e, 1);
			assert.deepEqual(got.data, { n: 1 });
			// Past the TTL (and a sweep's slack), a miss.
			await sleep(Math.max(0, TTL_S * 1000 + 1500 -
			    (Date.now() - t0)));
			const l = await mustSubscribe(late, name);
			await emitted(l, 'pusher:cache_miss');
			assert.deepEqual(l.got, []);
		} finally {
			disconnectAll([early, late]);
		}
	});
});
