// 10-ws-pusher-js: the real pusher-js client (its Node build) against
// sluiced: a public channel gets events posted over HTTP and published over
// WebSocket by another client; a private channel authorized by the pusher
// server SDK works and a forged auth fails; an unknown key is refused; it
// stays connected with short activity timeouts; after SIGTERM (4200) it
// reconnects by itself and subscribes again.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import Pusher from 'pusher-js';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, post, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor } from '../lib/ws.mjs';

const APP = { ...TEST_APP, publish_channels: [...TEST_APP.publish_channels,
    'private-*'] };

const { s, start } = useSluiced({ name: 'ws-pjs', waitWs: true,
    apps: [APP] });

const clients = new Set();

/*
 * A pusher-js client of the daemon d. authorize(params) returns the auth
 * for a private channel ({auth}); the default asks the pusher server SDK,
 * as an app's backend would.
 */
function pusherFor(d, { key = APP.key, authorize } = {}) {
	const sign = authorize || (({ socketId, channelName }) =>
	    sdkFor(APP).authorizeChannel(socketId, channelName));
	const p = new Pusher(key, {
		cluster: 'x',
		wsHost: '127.0.0.1',
		wsPort: d.wsPort,
		forceTLS: false,
		enabledTransports: ['ws'],
		channelAuthorization: {
			customHandler: (params, callback) => {
				try {
					callback(null, sign(params));
				} catch (e) {
					callback(e, null);
				}
			},
		},
	});
	clients.add(p);
	// Every state the connection went through.
	p.states = [];
	p.errors = [];
	p.connection.bind('state_change', ({ current }) =>
	    p.states.push(current));
	p.connection.bind('error', (e) => p.errors.push(e));
	return p;
}

after(() => {
	for (const p of clients)
		p.disconnect();
});

// The Pusher error codes p reported, in order (pusher-js wraps some).
function errorCodes(p) {
	return p.errors.map((e) => (e.data && e.data.code) ??
	    (e.error && e.error.data && e.error.data.code)).filter((c) =>
	    c !== undefined);
}

function disconnect(p) {
	p.disconnect();
	clients.delete(p);
}

// Resolves once p is connected (its socket_id).
function connected(p, { timeout = 20000 } = {}) {
	return waitFor(() => p.connection.state === 'connected' &&
	    p.connection.socket_id, { timeout, interval: 20,
	    what: `pusher-js connected (state ${p.connection.state})` });
}

/*
 * Subscribes p to name and resolves {channel, ok, error}: ok after
 * pusher:subscription_succeeded, error (the data of
 * pusher:subscription_error) otherwise. Events the channel gets are kept
 * in channel.got.
 */
function subscribe(p, name, { timeout = 20000 } = {}) {
	const channel = p.subscribe(name);
	channel.got = [];
	channel.bind_global((event, data) => {
		if (!event.startsWith('pusher:'))
			channel.got.push({ event, data });
	});
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no answer ` +
		    `to the subscription of ${name} in ${timeout} ms`)),
		    timeout);
		channel.bind('pusher:subscription_succeeded', () => {
			clearTimeout(timer);
			resolve({ channel, ok: true });
		});
		channel.bind('pusher:subscription_error', (error) => {
			clearTimeout(timer);
			resolve({ channel, ok: false, error });
		});
	});
}

// Waits until channel got n events; returns them.
function received(channel, n, { timeout = 20000 } = {}) {
	return waitFor(() => channel.got.length >= n && channel.got,
	    { timeout, interval: 20, what: `${n} events (got ` +
	    `${channel.got.length})` });
}

async function postOk(d, events) {
	const r = await post(d.url, events, { key: APP.key });
	assert.equal(r.status, 202, r.text);
	return r.json.ids;
}

describe('pusher-js', () => {
	it('a public channel gets events from HTTP and from a WebSocket ' +
	    'publisher', { timeout: 60000 }, async () => {
		const p = pusherFor(s);
		const pub = await connect(s);
		try {
			const socketId = await connected(p);
			assert.match(socketId, /^\d+\.\d+$/);
			const { channel, ok, error } = await subscribe(p, 'events');
			assert.ok(ok, JSON.stringify(error));
			const httpIds = await postOk(s, [
				{ event: 'page_view', data: { path: '/a' } },
				{ event: 'click', data: { x: 1 } },
			]);
			const r = await pub.publish('pjs-1', [
				{ event: 'signup', data: { plan: 'pro' } },
			]);
			assert.equal(r.event, 'sluice:ack', r.raw);
			const got = await received(channel, 3);
			assert.deepEqual(got.map((e) => e.event),
			    ['page_view', 'click', 'signup']);
			// pusher-js hands the envelope over parsed.
			assert.deepEqual(got.map((e) => e.data.id),
			    [...httpIds, ...r.payload.ids]);
			assert.deepEqual(got[0].data.data, { path: '/a' });
			assert.equal(got[0].data.source, 'http');
			assert.equal(got[2].data.source, 'ws');
			assert.deepEqual(got[2].data.data, { plan: 'pro' });
			assert.equal(got[2].data.channel, 'events');
			// Bound by event name, as apps do.
			const views = [];
			channel.bind('page_view', (d) => views.push(d.id));
			const [more] = await postOk(s, [{ event: 'page_view' }]);
			await waitFor(() => views.includes(more),
			    { what: 'the bound page_view handler called' });
		} finally {
			disconnect(p);
			await pub.close();
		}
	});

	it('a private channel authorized by the pusher SDK', {
	    timeout: 60000 }, async () => {
		const p = pusherFor(s);
		try {
			await connected(p);
			const { channel, ok, error } = await subscribe(p,
			    'private-dashboard');
			assert.ok(ok, `subscription_error: ${JSON.stringify(error)}`);
			const [id] = await postOk(s, [{ event: 'revenue',
			    channel: 'private-dashboard', data: { eur: 12.5 } }]);
			const [e] = await received(channel, 1);
			assert.equal(e.event, 'revenue');
			assert.equal(e.data.id, id);
			assert.deepEqual(e.data.data, { eur: 12.5 });
		} finally {
			disconnect(p);
		}
	});

	it('a forged auth fails with subscription_error', {
	    timeout: 60000 }, async () => {
		const forger = new (sdkFor(APP).constructor)({ appId: '1',
		    key: APP.key, secret: 'not-the-secret-0123456789',
		    cluster: 'x' });
		const p = pusherFor(s, { authorize: ({ socketId,
		    channelName }) => forger.authorizeChannel(socketId,
		    channelName) });
		const honest = pusherFor(s);
		try {
			await connected(p);
			await connected(honest);
			const r = await subscribe(p, 'private-dashboard');
			assert.equal(r.ok, false, 'the forged auth was accepted');
			assert.equal(r.error.type, 'AuthError',
			    JSON.stringify(r.error));
			assert.equal(r.error.status, 401, JSON.stringify(r.error));
			// And nothing is delivered on it.
			const h = await subscribe(honest, 'private-dashboard');
			assert.ok(h.ok);
			const [id] = await postOk(s, [{ event: 'revenue',
			    channel: 'private-dashboard' }]);
			await waitFor(() => h.channel.got.some((e) =>
			    e.data.id === id), { what: 'the honest client\'s ' +
			    'delivery' });
			assert.deepEqual(r.channel.got, []);
			assert.equal(p.connection.state, 'connected');
		} finally {
			disconnect(p);
			disconnect(honest);
		}
	});

	it('a channel the app does not make public is refused', {
	    timeout: 60000 }, async () => {
		const p = pusherFor(s);
		try {
			await connected(p);
			const r = await subscribe(p, 'chat.room');
			assert.equal(r.ok, false);
			assert.equal(r.error.type, 'AuthError');
			assert.equal(r.error.status, 403);
		} finally {
			disconnect(p);
		}
	});

	it('an unknown app key: refused with 4001, no retry', {
	    timeout: 60000 }, async () => {
		const p = pusherFor(s, { key: 'no-such-key-0001' });
		try {
			await waitFor(() => errorCodes(p).includes(4001),
			    { timeout: 20000, what: 'a 4001 error' });
			await waitFor(() => ['disconnected', 'failed'].includes(
			    p.connection.state), { what: 'pusher-js to give up' });
		} finally {
			disconnect(p);
		}
	});
});

describe('pusher-js with short timeouts', () => {
	it('stays connected and subscribed with activity_timeout 1', {
	    timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-pjs-ping', waitWs: true,
		    apps: [APP], websocket: { activity_timeout: 1,
		    pong_timeout: 2 } });
		const p = pusherFor(d);
		try {
			const id0 = await connected(p);
			const { channel, ok } = await subscribe(p, 'events');
			assert.ok(ok);
			const states = p.states.length;
			// Several activity and pong timeouts go by.
			await sleep(7000);
			assert.equal(p.connection.state, 'connected');
			assert.equal(p.connection.socket_id, id0,
			    'pusher-js reconnected');
			assert.deepEqual(p.states.slice(states), []);
			const [id] = await postOk(d, [{ event: 'late' }]);
			const [e] = await received(channel, 1);
			assert.equal(e.data.id, id);
		} finally {
			disconnect(p);
			await d.stop();
		}
	});

	it('after SIGTERM (4200) it reconnects and subscribes again', {
	    timeout: 120000 }, async () => {
		const d = await start({ name: 'ws-pjs-restart', waitWs: true,
		    apps: [APP] });
		const p = pusherFor(d);
		const raw = await connect(d);
		try {
			const id0 = await connected(p);
			const { channel, ok } = await subscribe(p, 'events');
			assert.ok(ok);
			await d.stop();
			assert.equal((await raw.waitClose()).code, 4200);
			await waitFor(() => p.connection.state !== 'connected',
			    { what: 'pusher-js to notice the stop' });
			await d.restart({ waitWs: true });
			const id1 = await connected(p, { timeout: 60000 });
			assert.notEqual(id1, id0);
			// The subscription is renewed on its own.
			await waitFor(async () => {
				const [id] = await postOk(d, [{ event: 'again' }]);
				await sleep(300);
				return channel.got.some((e) => e.data.id === id);
			}, { timeout: 30000, what: 'a delivery after the ' +
			    'reconnect' });
			assert.ok(errorCodes(p).includes(4200), 'pusher-js saw ' +
			    `no 4200: ${JSON.stringify(p.errors)}`);
		} finally {
			disconnect(p);
			await closeAll([raw]);
			await d.stop();
		}
	});
});
