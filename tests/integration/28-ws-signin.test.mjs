// 28-ws-signin: user sign-in (pusher:signin) with unmodified pusher-js 8,
// signed by the pusher server SDK's authenticateUser: signin() gets
// pusher:signin_success and pusher-js subscribes to #server-to-user-<id>
// by itself, which only that user may read; events the app's server sends
// there with the HTTP API's sendToUser reach
// pusher.user, on every connection of the user; a forged sign-in is
// answered with pusher:error 4009 and a 4009 close; with
// user_authentication_required, a connection that does not sign in within
// user_authentication_timeout is closed with 4009.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { connected, disconnectAll, errorCodes, inState, pusherFor } from
    '../lib/pusher.mjs';
import { TEST_APP, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor, signUser } from '../lib/ws.mjs';

const APP = { ...TEST_APP };
// Every connection must sign in within 2 s.
const REQUIRED = { id: 'required', key: 'required-key-0001',
    secret: 'required-secret-0123456789', user_authentication_required: 'yes',
    user_authentication_timeout: 2 };
const TIMEOUT_MS = 2000;

const { s } = useSluiced({ name: 'ws-signin', waitWs: true,
    apps: [APP, REQUIRED] });

const FORGER = new (sdkFor(APP).constructor)({ appId: '1', key: APP.key,
    secret: 'not-the-secret-0123456789', cluster: 'x' });

// A pusher-js client of app that signs in as user when told to.
function userClient(user, opts = {}) {
	const p = pusherFor(s, { signin: user, ...opts });
	p.signins = [];
	p.bind('pusher:signin_success', (data) => p.signins.push(data));
	return p;
}

// Resolves once p signed in and is subscribed to its user channel.
async function signedIn(p) {
	await waitFor(() => p.signins.length > 0 && p.user.user_data &&
	    p.user.serverToUserChannel && p.user.serverToUserChannel
	    .subscribed, { timeout: 20000, what: () => 'the sign-in and ' +
	    `the user channel (state ${p.connection.state}, errors ` +
	    `${JSON.stringify(p.errors)})` });
	return p.user.user_data;
}

// The app's server: the pusher SDK pointed at sluiced's HTTP API.
function appServer() {
	return new (sdkFor(APP).constructor)({ appId: APP.id, key: APP.key,
	    secret: APP.secret, host: '127.0.0.1', port: String(s.port),
	    useTLS: false });
}

describe('pusher-js signin()', () => {
	it('gets signin_success and subscribes to its user channel', {
	    timeout: 60000 }, async () => {
		const user = { id: 'alice', name: 'Alice', user_info: { age: 7 } };
		const p = userClient(user);
		try {
			await connected(p);
			p.signin();
			assert.deepEqual(await signedIn(p), user);
			assert.equal(p.user.serverToUserChannel.name,
			    '#server-to-user-alice');
			assert.equal(p.signins.length, 1);
			assert.deepEqual(JSON.parse(p.signins[0].user_data), user);
			assert.deepEqual(p.errors, []);
		} finally {
			disconnectAll([p]);
		}
	});

	it('signin_success on the wire; only the user reads its channel', {
	    timeout: 60000 }, async () => {
		const c = await connect(s);
		const stranger = await connect(s);
		try {
			// Unsigned: no user channel.
			let m = await stranger.subscribe('#server-to-user-bob');
			assert.equal(m.event, 'pusher:subscription_error', m.raw);
			const signed = signUser(APP, c.socketId, { id: 'bob' });
			m = await c.signin(signed);
			assert.equal(m.event, 'pusher:signin_success', m.raw);
			assert.equal(typeof m.data, 'string', m.raw);
			assert.deepEqual(m.payload, { user_data: signed.user_data },
			    m.raw);
			m = await c.subscribe('#server-to-user-bob');
			assert.equal(m.event, 'pusher_internal:subscription_succeeded',
			    m.raw);
			// Signed in as bob: not another user's.
			m = await c.subscribe('#server-to-user-carol');
			assert.equal(m.event, 'pusher:subscription_error', m.raw);
			assert.ok(c.isOpen);
			assert.ok(stranger.isOpen);
		} finally {
			await closeAll([c, stranger]);
		}
	});

	it('events published to #server-to-user-<id> reach pusher.user on ' +
	    'each of its connections', { timeout: 60000 }, async () => {
		const tab1 = userClient({ id: 'dana' });
		const tab2 = userClient({ id: 'dana' });
		const other = userClient({ id: 'erin' });
		try {
			const got = new Map([[tab1, []], [tab2, []], [other, []]]);
			for (const p of [tab1, tab2, other]) {
				p.user.bind('notice', (data) => got.get(p).push(data));
				p.signin();
			}
			for (const p of [tab1, tab2, other])
				await signedIn(p);
			// The app's server, through the HTTP API (sendToUser).
			const r = await appServer().sendToUser('dana',
			    'notice', { text: 'hi' });
			assert.equal(r.status, 200);
			await waitFor(() => got.get(tab1).length > 0 &&
			    got.get(tab2).length > 0, { what: 'the notice on ' +
			    'both tabs' });
			assert.deepEqual(got.get(tab1), [{ text: 'hi' }]);
			assert.deepEqual(got.get(tab2), [{ text: 'hi' }]);
			// Erin's channel got nothing: an event of hers comes
			// first.
			await appServer().sendToUser('erin', 'notice',
			    { text: 'yours' });
			await waitFor(() => got.get(other).length > 0,
			    { what: 'erin\'s notice' });
			assert.deepEqual(got.get(other), [{ text: 'yours' }]);
		} finally {
			disconnectAll([tab1, tab2, other]);
		}
	});

	it('a forged sign-in: pusher:error 4009, closed with 4009', {
	    timeout: 60000 }, async () => {
		const p = userClient({ id: 'mallory' }, { authenticate:
		    ({ socketId }) => FORGER.authenticateUser(socketId,
		    { id: 'mallory' }) });
		const raws = [];
		try {
			await connected(p);
			p.signin();
			await waitFor(() => errorCodes(p).includes(4009),
			    { what: 'a 4009 for pusher-js' });
			// 4000s: pusher-js does not come back.
			await inState(p, ['disconnected', 'failed']);
			await sleep(1500);
			assert.ok(['disconnected', 'failed'].includes(
			    p.connection.state), p.connection.state);
			assert.equal(p.user.user_data, null);

			const sdk = sdkFor(APP);
			const cases = [
				['a wrong secret', (id) => FORGER.authenticateUser(id,
				    { id: 'mallory' })],
				['another socket\'s signature', () => sdk
				    .authenticateUser('1234.5678', { id: 'mallory' })],
				['user_data without id', (id) => {
					const text = JSON.stringify({ name: 'x' });
					return { auth: `${APP.key}:${sdk.config.token.sign(
					    `${id}::user::${text}`)}`, user_data: text };
				}],
				['user_data that is not JSON', (id) => {
					const text = '{"id":';
					return { auth: `${APP.key}:${sdk.config.token.sign(
					    `${id}::user::${text}`)}`, user_data: text };
				}],
				['no auth', () => ({ user_data: JSON.stringify(
				    { id: 'mallory' }) })],
			];
			for (const [what, sign] of cases) {
				const c = await connect(s);
				raws.push(c);
				const m = await c.signin(sign(c.socketId));
				assert.equal(m.event, 'pusher:error', `${what}: ${m.raw}`);
				assert.equal(m.payload.code, 4009, `${what}: ${m.raw}`);
				const close = await c.waitClose();
				assert.equal(close.code, 4009, `${what}: ` +
				    JSON.stringify(close));
			}
		} finally {
			disconnectAll([p]);
			await closeAll(raws);
		}
	});
});

describe('user_authentication_required', () => {
	it('a connection that does not sign in is closed with 4009', {
	    timeout: 60000 }, async () => {
		const t0 = Date.now();
		const c = await connect(s, { key: REQUIRED.key });
		try {
			const close = await c.waitClose({ timeout: TIMEOUT_MS + 8000 });
			const elapsed = Date.now() - t0;
			assert.equal(close.code, 4009, JSON.stringify(close));
			assert.ok(elapsed >= TIMEOUT_MS - 200, `closed after ` +
			    `${elapsed} ms, before the ${TIMEOUT_MS} ms timeout`);
			const [e] = c.drainInbox('pusher:error');
			if (e)
				assert.equal(e.payload.code, 4009, e.raw);
		} finally {
			await closeAll([c]);
		}
	});

	it('pusher-js without signin() gets 4009; with it, stays', {
	    timeout: 60000 }, async () => {
		const lazy = pusherFor(s, { app: REQUIRED });
		const user = { id: 'frank' };
		const good = pusherFor(s, { app: REQUIRED, signin: user });
		const raw = await connect(s, { key: REQUIRED.key });
		try {
			await connected(lazy);
			await connected(good);
			good.signin();
			const m = await raw.signin(signUser(REQUIRED, raw.socketId,
			    { id: 'gina' }));
			assert.equal(m.event, 'pusher:signin_success', m.raw);
			await waitFor(() => errorCodes(lazy).includes(4009),
			    { timeout: TIMEOUT_MS + 8000, what: 'a 4009 for the ' +
			    'client that did not sign in' });
			await sleep(TIMEOUT_MS);
			assert.equal(good.connection.state, 'connected');
			assert.deepEqual(good.user.user_data, user);
			assert.deepEqual(errorCodes(good), []);
			await raw.ping();
			assert.ok(raw.isOpen);
		} finally {
			disconnectAll([lazy, good]);
			await closeAll([raw]);
		}
	});
});
