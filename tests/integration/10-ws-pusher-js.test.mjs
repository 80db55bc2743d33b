// 10-ws-pusher-js: the real pusher-js client (its Node build) against
// sluiced: a public channel gets events posted over HTTP and published over
// WebSocket by another client, their data as published, as Pusher sends it
// (any JSON value); sluice:options sent by pusher-js gets it envelopes; a
// private channel authorized by the pusher server SDK works and a forged
// auth fails, also for soketi's test app (app-key, app-secret); an unknown
// key is refused, a disabled app's key with 4003; it stays connected with
// short activity timeouts; after SIGTERM (4200) it reconnects by itself and
// subscribes again.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import Pusher from 'pusher-js';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, post, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor } from '../lib/ws.mjs';

const APP = { ...TEST_APP, publish_channels: [...TEST_APP.publish_channels,
    'private-*', 'c'], public_channels: [...TEST_APP.public_channels, 'c'] };
// soketi's test app: a short key and secret, as Pusher allows them.
const SOKETI = { id: 'soketi', key: 'app-key', secret: 'app-secret',
    publish_channels: ['public-*', 'private-*'],
    public_channels: ['public-*'] };
const DISABLED = { id: 'off', key: 'off-key', secret: 'off-secret-0123456789',
    publish_channels: ['events'], public_channels: ['events'],
    enabled: 'no' };

const { s, start } = useSluiced({ name: 'ws-pjs', waitWs: true,
    apps: [APP, SOKETI, DISABLED] });

const clients = new Set();

/*
 * A pusher-js client of the daemon d. authorize(params) returns the auth
 * for a private channel ({auth}); the default asks the pusher server SDK,
 * as an app's backend would.
 */
function pusherFor(d, { app = APP, key = app.key, authorize } = {}) {
	const sign = authorize || (({ socketId, channelName }) =>
	    sdkFor(app).authorizeChannel(socketId, channelName));
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

async function postOk(d, events, { key = APP.key } = {}) {
	const r = await post(d.url, events, { key });
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
			assert.equal(httpIds.length, 2);
			assert.equal(r.payload.ids.length, 1);
			const got = await received(channel, 3);
			assert.deepEqual(got.map((e) => e.event),
			    ['page_view', 'click', 'signup']);
			// pusher-js hands the data over as it was published,
			// parsed, whichever door it came in by.
			assert.deepEqual(got.map((e) => e.data),
			    [{ path: '/a' }, { x: 1 }, { plan: 'pro' }]);
			// Bound by event name, as apps do.
			const views = [];
			channel.bind('page_view', (d) => views.push(d));
			await postOk(s, [{ event: 'page_view',
			    data: { path: '/more' } }]);
			await waitFor(() => views.some((v) => v.path === '/more'),
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
			await postOk(s, [{ event: 'revenue',
			    channel: 'private-dashboard', data: { eur: 12.5 } }]);
			const [e] = await received(channel, 1);
			assert.equal(e.event, 'revenue');
			assert.deepEqual(e.data, { eur: 12.5 });
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
			    channel: 'private-dashboard', data: { forged: 1 } }]);
			await waitFor(() => h.channel.got.some((e) =>
			    e.data.forged === 1), { what: 'the honest client\'s ' +
			    'delivery' });
			assert.ok(id);
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

	it('the data as Pusher sends it: {"message":"hello"}, as in the ' +
	    'issue', { timeout: 60000 }, async () => {
		const p = pusherFor(s);
		try {
			await connected(p);
			const { channel, ok } = await subscribe(p, 'c');
			assert.ok(ok);
			// As Laravel Echo reads it: e.message.
			const messages = [];
			channel.bind('greeting', (e) => messages.push(e.message));
			await postOk(s, { event: 'greeting', channel: 'c',
			    data: { message: 'hello' } });
			const [e] = await received(channel, 1);
			assert.deepEqual(e, { event: 'greeting',
			    data: { message: 'hello' } });
			await waitFor(() => messages.length === 1,
			    { what: 'the greeting handler called' });
			assert.deepEqual(messages, ['hello']);
		} finally {
			disconnect(p);
		}
	});

	it('data of every JSON type arrives as Pusher delivers it', {
	    timeout: 60000 }, async () => {
		const p = pusherFor(s);
		const pub = await connect(s);
		try {
			await connected(p);
			const { channel, ok } = await subscribe(p, 'c');
			assert.ok(ok);
			const published = ['hello', '{"a":1}', '', 42, -1.5,
			    [1, 'two', null], null, true, { nested: { a: [1] } }];
			await postOk(s, published.map((data, i) => ({
			    event: `t${i}`, channel: 'c', data })));
			// An event without data; one published over WebSocket.
			await postOk(s, { event: 'bare', channel: 'c' });
			const r = await pub.publish('types', { event: 'ws-string',
			    channel: 'c', data: 'from ws' });
			assert.equal(r.event, 'sluice:ack', r.raw);
			const got = await received(channel, published.length + 2);
			// A string is handed over as it is, unless it holds JSON:
			// pusher-js parses what it can, with Pusher too.
			assert.deepEqual(got, [
				{ event: 't0', data: 'hello' },
				{ event: 't1', data: { a: 1 } },
				{ event: 't2', data: '' },
				{ event: 't3', data: 42 },
				{ event: 't4', data: -1.5 },
				{ event: 't5', data: [1, 'two', null] },
				{ event: 't6', data: null },
				{ event: 't7', data: true },
				{ event: 't8', data: { nested: { a: [1] } } },
				{ event: 'bare', data: null },
				{ event: 'ws-string', data: 'from ws' },
			]);
		} finally {
			disconnect(p);
			await pub.close();
		}
	});

	it('sluice:options sent by pusher-js gets it envelopes', {
	    timeout: 60000 }, async () => {
		const p = pusherFor(s);
		try {
			await connected(p);
			const { channel, ok } = await subscribe(p, 'c');
			assert.ok(ok);
			const replies = [];
			p.bind('sluice:options_succeeded', (d) => replies.push(d));
			p.send_event('sluice:options', { format: 'envelope' });
			await waitFor(() => replies.length === 1,
			    { what: 'sluice:options_succeeded' });
			assert.deepEqual(replies, [{ format: 'envelope' }]);
			const [id] = await postOk(s, { event: 'greeting',
			    channel: 'c', data: { message: 'hello' } });
			const [e] = await received(channel, 1);
			assert.equal(e.event, 'greeting');
			assert.equal(e.data.id, id);
			assert.equal(e.data.app, APP.id);
			assert.equal(e.data.channel, 'c');
			assert.equal(e.data.source, 'http');
			assert.deepEqual(e.data.data, { message: 'hello' });
			// And back to Pusher's format.
			p.send_event('sluice:options', { format: 'pusher' });
			await waitFor(() => replies.length === 2,
			    { what: 'the second sluice:options_succeeded' });
			await postOk(s, { event: 'greeting', channel: 'c',
			    data: { message: 'again' } });
			const got = await received(channel, 2);
			assert.deepEqual(got[1].data, { message: 'again' });
		} finally {
			disconnect(p);
		}
	});

	it('soketi\'s test app (app-key, app-secret) works, private ' +
	    'channels too', { timeout: 60000 }, async () => {
		const p = pusherFor(s, { app: SOKETI });
		try {
			await connected(p);
			const pub = await subscribe(p, 'public-1');
			assert.ok(pub.ok, JSON.stringify(pub.error));
			const priv = await subscribe(p, 'private-1');
			assert.ok(priv.ok, JSON.stringify(priv.error));
			await postOk(s, [
				{ event: 'greeting', channel: 'public-1',
				    data: { message: 'hello' } },
				{ event: 'greeting', channel: 'private-1',
				    data: { message: 'psst' } },
			], { key: SOKETI.key });
			const [a] = await received(pub.channel, 1);
			const [b] = await received(priv.channel, 1);
			assert.deepEqual(a.data, { message: 'hello' });
			assert.deepEqual(b.data, { message: 'psst' });
		} finally {
			disconnect(p);
		}
	});

	it('a disabled app: refused with 4003, no retry; its events with ' +
	    '403', { timeout: 60000 }, async () => {
		const p = pusherFor(s, { app: DISABLED });
		try {
			await waitFor(() => errorCodes(p).includes(4003),
			    { timeout: 20000, what: 'a 4003 error' });
			await waitFor(() => ['disconnected', 'failed'].includes(
			    p.connection.state), { what: 'pusher-js to give up' });
			assert.equal(p.connection.socket_id, undefined);
			const r = await post(s.url, { event: 'e' },
			    { key: DISABLED.key });
			assert.equal(r.status, 403, r.text);
			assert.equal(r.json.error, 'app_disabled');
			assert.match(r.json.message, /\bapp off is disabled/);
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
			await postOk(d, [{ event: 'late', data: 'after 7 s' }]);
			const [e] = await received(channel, 1);
			assert.equal(e.event, 'late');
			assert.equal(e.data, 'after 7 s');
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
			let tries = 0;
			await waitFor(async () => {
				const n = ++tries;
				await postOk(d, [{ event: 'again', data: { n } }]);
				await sleep(300);
				return channel.got.some((e) => e.data.n === n);
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
