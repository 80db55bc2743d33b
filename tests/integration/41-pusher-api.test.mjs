// 41-pusher-api: the HTTP API (Pusher's server API) with the unmodified
// pusher server SDK pointed at sluiced's HTTP port: trigger to one and to
// several channels reaches pusher-js and raw subscribers with the data as
// the string given, skipping the connection of socket_id; info counts;
// triggerBatch (and its bound, max_batch_events); sendToUser reaches a
// signed-in user; get /channels, /channels/NAME and /channels/NAME/users
// see presence members; terminateUserConnections closes a signed-in
// connection with 4009; every error has its status and a JSON body;
// triggered events reach RabbitMQ with source "api"; /metrics counts the
// requests by endpoint and status.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { connected, disconnectAll, mustSubscribe, pusherFor, received } from
    '../lib/pusher.mjs';
import { TEST_APP, metrics, request, waitFor } from
    '../lib/sluiced.mjs';
import { closeAll, connect, signPresence } from '../lib/ws.mjs';

const require = createRequire(import.meta.url);
const PusherServer = require('pusher');

// publish_channels does not name what the API triggers to: it needs none;
// every public channel may be read without auth.
const APP = { ...TEST_APP, publish_channels: ['events'],
    public_channels: ['*'], max_batch_events: 3 };
const OFF = { id: 'off', key: 'off-key-0001', secret:
    'off-secret-0123456789', enabled: 'no' };

// A small max_request_bytes: a body just over it is sent whole before the
// 413, so the answer is read rather than a reset.
const MAX_REQUEST_BYTES = 65536;

const { s, broker } = useSluiced({ name: 'pusher-api', waitWs: true,
    apps: [APP, OFF], limits: { max_request_bytes: MAX_REQUEST_BYTES } },
    { purgeEach: ['queue'] });

// The SDK of app (or with another secret) at sluiced's HTTP port.
function server(app = APP, { secret = app.secret, appId = app.id } = {}) {
	return new PusherServer({ appId, key: app.key, secret, host:
	    '127.0.0.1', port: String(s.port), useTLS: false });
}

// The status and JSON body of a rejected SDK promise.
async function refused(promise) {
	try {
		await promise;
	} catch (e) {
		return { status: e.status, body: JSON.parse(e.body) };
	}
	throw new Error('the request was not refused');
}

// A unique channel name.
let serial = 0;
function fresh(prefix) {
	serial++;
	return `${prefix}${process.pid}-${serial}`;
}

describe('trigger', () => {
	it('reaches pusher-js and raw subscribers with the data as the string',
	    { timeout: 60000 }, async () => {
		const name = fresh('api-one-');
		const p = pusherFor(s);
		const raw = await connect(s);
		try {
			await connected(p);
			const channel = await mustSubscribe(p, name);
			await raw.mustSubscribe(name);
			const r = await server().trigger(name, 'greet',
			    { hello: 'world' });
			assert.equal(r.status, 200);
			assert.deepEqual(await r.json(), {});
			const [got] = await received(channel, 1);
			assert.deepEqual(got, { event: 'greet', data:
			    { hello: 'world' } });
			const m = await raw.next('greet');
			assert.equal(m.channel, name);
			// The data as the SDK sent it: a JSON string.
			assert.equal(m.data, JSON.stringify({ hello: 'world' }));
			const plain = await server().trigger(name, 'text',
			    'just a string');
			assert.equal(plain.status, 200);
			assert.equal((await raw.next('text')).data,
			    'just a string');
		} finally {
			disconnectAll([p]);
			await closeAll([raw]);
		}
	});

	it('reaches several channels, skips socket_id, answers info',
	    { timeout: 60000 }, async () => {
		const names = [fresh('api-many-'), fresh('api-many-')];
		const a = await connect(s);
		const b = await connect(s);
		try {
			for (const c of [a, b])
				for (const n of names)
					await c.mustSubscribe(n);
			const r = await server().trigger(names, 'both', 'x',
			    { socket_id: a.socketId, info:
			    'subscription_count' });
			assert.equal(r.status, 200);
			assert.deepEqual(await r.json(), { channels: {
			    [names[0]]: { subscription_count: 2 },
			    [names[1]]: { subscription_count: 2 } } });
			const got = await b.take('both', 2);
			assert.deepEqual(got.map((m) => m.channel).sort(),
			    [...names].sort());
			// A marker after: a saw it, and nothing before it.
			await server().trigger(names[0], 'marker', 'm');
			await a.next('marker');
			assert.deepEqual(a.drainInbox('both'), []);
		} finally {
			await closeAll([a, b]);
		}
	});

	it('to more than 100 channels, or without a name: 400 in JSON',
	    { timeout: 30000 }, async () => {
		const many = Array.from({ length: 101 }, (_, i) => `c${i}`);
		// The SDK refuses 101 channels itself: post the body as is.
		let e = await refused(server().post({ path: '/events', body:
		    { name: 'x', data: 'y', channels: many } }));
		assert.equal(e.status, 400);
		assert.match(e.body.message, /channels/);
		e = await refused(server().post({ path: '/events', body:
		    { data: 'y', channel: 'events' } }));
		assert.equal(e.status, 400);
		assert.match(e.body.message, /name/);
		e = await refused(server().post({ path: '/events', body:
		    { name: 'x', data: { not: 'a string' }, channel: 'a' } }));
		assert.equal(e.status, 400);
		assert.match(e.body.message, /data/);
		e = await refused(server().post({ path: '/events', body:
		    { name: 'x', data: 'y', channel: 'bad channel' } }));
		assert.equal(e.status, 400);
		assert.equal(e.body.error, 'invalid_body');
		e = await refused(server().post({ path: '/events', body:
		    { name: 'x', data: 'y'.repeat(40000), channel: 'a' } }));
		assert.equal(e.status, 413);
		assert.match(e.body.message, /data is 40000 bytes/);
	});

	it('reaches RabbitMQ with source "api"', { timeout: 60000 },
	    async () => {
		const name = fresh('api-mq-');
		await server().trigger(name, 'stored', 'kept');
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.source, 'api');
		assert.equal(m.body.channel, name);
		assert.equal(m.body.event, 'stored');
		assert.equal(m.body.data, 'kept');
		assert.equal(m.body.app, APP.id);
	});
});

describe('triggerBatch', () => {
	it('delivers each event, with info per event', { timeout: 60000 },
	    async () => {
		const names = [fresh('api-b-'), fresh('presence-api-b-')];
		const raw = await connect(s);
		try {
			await raw.mustSubscribe(names[0]);
			await raw.mustSubscribe(names[1], { auth: signPresence(
			    APP, raw.socketId, names[1], { user_id: 'u1' }) });
			const r = await server().triggerBatch([
			    { channel: names[0], name: 'one', data: '1',
				info: 'subscription_count' },
			    { channel: names[1], name: 'two', data: '2',
				info: 'user_count' },
			]);
			assert.equal(r.status, 200);
			assert.deepEqual(await r.json(), { batch: [
			    { subscription_count: 1 }, { user_count: 1 }] });
			assert.equal((await raw.next('one')).data, '1');
			assert.equal((await raw.next('two')).data, '2');
		} finally {
			await closeAll([raw]);
		}
	});

	it('over max_batch_events: 413 in JSON, nothing sent',
	    { timeout: 30000 }, async () => {
		const batch = Array.from({ length: 4 }, (_, i) =>
		    ({ channel: 'over', name: `e${i}`, data: 'x' }));
		const e = await refused(server().triggerBatch(batch));
		assert.equal(e.status, 413);
		assert.match(e.body.message, /max_batch_events/);
	});
});

describe('sendToUser and terminateUserConnections', () => {
	it('reach a signed-in pusher-js user, then close it with 4009',
	    { timeout: 60000 }, async () => {
		const p = pusherFor(s, { signin: { id: 'zoe' } });
		const heard = [];
		try {
			p.user.bind('notice', (data) => heard.push(data));
			await connected(p);
			p.signin();
			await waitFor(() => p.user.serverToUserChannel &&
			    p.user.serverToUserChannel.subscribed,
			    { timeout: 20000, what: 'the user channel' });
			const r = await server().sendToUser('zoe', 'notice',
			    { text: 'hi' });
			assert.equal(r.status, 200);
			await waitFor(() => heard.length > 0, { what: 'the ' +
			    'notice' });
			assert.deepEqual(heard, [{ text: 'hi' }]);
			const closes = [];
			p.connection.bind('error', (e) => closes.push(e));
			const t = await server().terminateUserConnections(
			    'zoe');
			assert.equal(t.status, 200);
			await waitFor(() => ['disconnected', 'failed',
			    'unavailable'].includes(p.connection.state) ||
			    closes.some((e) => e.data && e.data.code === 4009),
			    { what: 'the connection closed' });
			assert.ok(closes.some((e) => e.data &&
			    e.data.code === 4009), JSON.stringify(closes));
		} finally {
			disconnectAll([p]);
		}
	});
});

describe('channel state', () => {
	it('get /channels, /channels/NAME and /users see presence members',
	    { timeout: 60000 }, async () => {
		const room = fresh('presence-api-room-');
		const plain = fresh('api-plain-');
		const a = await connect(s);
		const b = await connect(s);
		try {
			await a.mustSubscribe(room, { auth: signPresence(APP,
			    a.socketId, room, { user_id: 'ann' }) });
			await b.mustSubscribe(room, { auth: signPresence(APP,
			    b.socketId, room, { user_id: 'ben' }) });
			await a.mustSubscribe(plain);
			const api = server();
			let r = await api.get({ path: '/channels', params:
			    { filter_by_prefix: 'presence-api-room-', info:
			    'user_count' } });
			let body = await r.json();
			assert.deepEqual(body.channels[room], { user_count: 2 });
			assert.equal(body.channels[plain], undefined);
			r = await api.get({ path: '/channels' });
			body = await r.json();
			assert.deepEqual(body.channels[plain], {});
			assert.ok(room in body.channels);
			r = await api.get({ path: `/channels/${room}`, params:
			    { info: 'user_count,subscription_count' } });
			assert.deepEqual(await r.json(), { occupied: true,
			    user_count: 2, subscription_count: 2 });
			r = await api.get({ path: `/channels/${room}/users` });
			body = await r.json();
			assert.deepEqual(body.users.map((u) => u.id).sort(),
			    ['ann', 'ben']);
			r = await api.get({ path: `/channels/${fresh('nobody-')}`
			    });
			assert.deepEqual(await r.json(), { occupied: false });
			let e = await refused(api.get({ path:
			    `/channels/${plain}/users` }));
			assert.equal(e.status, 400);
			e = await refused(api.get({ path: '/channels', params:
			    { info: 'user_count' } }));
			assert.equal(e.status, 400);
			assert.match(e.body.message, /presence/);
		} finally {
			await closeAll([a, b]);
		}
	});

	it('a cache channel\'s last event', { timeout: 30000 }, async () => {
		const name = fresh('cache-api-');
		const raw = await connect(s);
		try {
			await raw.mustSubscribe(name);
			await server().trigger(name, 'kept', 'last');
			await raw.next('kept');
			const r = await server().get({ path: `/channels/${name}`,
			    params: { info: 'cache' } });
			const body = await r.json();
			assert.equal(body.occupied, true);
			assert.equal(body.cache.event, 'kept');
			assert.equal(body.cache.data, 'last');
		} finally {
			await closeAll([raw]);
		}
	});
});

describe('errors', () => {
	it('each with its status and a JSON body', { timeout: 30000 },
	    async () => {
		// A wrong secret: 401.
		let e = await refused(server(APP, { secret: 'wrong-secret-'
		    + '0123456789' }).trigger('events', 'x', 'y'));
		assert.equal(e.status, 401);
		assert.match(e.body.message, /auth_signature/);
		// Unknown app id: 404.
		e = await refused(server(APP, { appId: 'nope' }).trigger(
		    'events', 'x', 'y'));
		assert.equal(e.status, 404);
		assert.equal(e.body.error, 'unknown_app');
		// A disabled app: 403.
		e = await refused(server(OFF).trigger('events', 'x', 'y'));
		assert.equal(e.status, 403);
		assert.equal(e.body.error, 'app_disabled');
		// Not signed: 401.
		let r = await request('GET', `${s.baseUrl}/apps/${APP.id}/` +
		    'channels');
		assert.equal(r.status, 401);
		assert.match(r.json.message, /not signed/);
		// A stale timestamp: 401 saying so.
		const api = server();
		const token = api.config.token;
		const stamp = Math.floor(Date.now() / 1000) - 3600;
		const query = `auth_key=${APP.key}&auth_timestamp=${stamp}` +
		    '&auth_version=1.0';
		const sig = token.sign(`GET\n/apps/${APP.id}/channels\n` +
		    query);
		r = await request('GET', `${s.baseUrl}/apps/${APP.id}/` +
		    `channels?${query}&auth_signature=${sig}`);
		assert.equal(r.status, 401);
		assert.match(r.json.message, /auth_timestamp .* not within 600/);
		// A body that is not the one signed: 401 (body_md5).
		const body = JSON.stringify({ name: 'x', data: 'y', channel:
		    'events' });
		const now = Math.floor(Date.now() / 1000);
		const q2 = `auth_key=${APP.key}&auth_timestamp=${now}` +
		    '&auth_version=1.0&body_md5=0123456789abcdef0123456789abcdef';
		const sig2 = token.sign(`POST\n/apps/${APP.id}/events\n${q2}`);
		r = await request('POST', `${s.baseUrl}/apps/${APP.id}/events?` +
		    `${q2}&auth_signature=${sig2}`, { body, headers:
		    { 'Content-Type': 'application/json' } });
		assert.equal(r.status, 401);
		assert.match(r.json.message, /body_md5/);
		// Not JSON: 400 naming it.
		e = await refused(api.post({ path: '/events', body: 'not ' +
		    'an object' }));
		assert.equal(e.status, 400);
		assert.match(e.body.message, /JSON object/);
		// No such resource: 404; the wrong method: 405.
		r = await request('GET', `${s.baseUrl}/apps/${APP.id}/nothing`);
		assert.equal(r.status, 404);
		assert.equal(r.json.error, 'not_found');
		r = await request('GET', `${s.baseUrl}/apps/${APP.id}/events`);
		assert.equal(r.status, 405);
		assert.equal(r.json.error, 'method_not_allowed');
		// Over max_request_bytes: 413.
		r = await request('POST', `${s.baseUrl}/apps/${APP.id}/events`,
		    { body: 'x'.repeat(MAX_REQUEST_BYTES + 1024), headers:
		    { 'Content-Type': 'application/json' } });
		assert.equal(r.status, 413);
		assert.equal(r.json.error, 'request_too_large');
	});

	it('counted in /metrics by endpoint and status', { timeout: 30000 },
	    async () => {
		await server().trigger('events', 'counted', 'x');
		await refused(server(APP, { secret: 'wrong-secret-0123456789' })
		    .get({ path: '/channels' }));
		const m = await metrics(s);
		const count = (endpoint, code) => m.get('sluice_http_api_' +
		    `requests_total{endpoint="${endpoint}",code="${code}"}`) ||
		    0;
		assert.ok(count('events', '200') >= 1, 'events 200');
		assert.ok(count('channels', '401') >= 1, 'channels 401');
	});
});
