// 26-ws-presence: presence channels with unmodified pusher-js 8 and
// laravel-echo, signed by the pusher server SDK: a join gets the members
// (ids, hash, count) and me; member_added and member_removed go to the
// other subscribers, between three clients; a user with two connections is
// one member, removed only when both left; closing, unsubscribing and a
// pong timeout remove a member; presence_max_members (403), a forged or
// missing auth (401) and bad channel_data (400) are refused with their
// codes; Echo's join() with here, joining and leaving.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { disconnect, disconnectAll, echoFor, emitted, membersOf,
    mustSubscribe, pusherFor, subscribe } from '../lib/pusher.mjs';
import { TEST_APP, post, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor, signPresence } from '../lib/ws.mjs';

const APP = { ...TEST_APP, publish_channels: [...TEST_APP.publish_channels,
    'presence-*'] };
// An app whose presence channels hold three users at most.
const LIMITED = { id: 'limited', key: 'limited-key-0001',
    secret: 'limited-secret-0123456789', presence_max_members: 3 };

const { s, start } = useSluiced({ name: 'ws-presence', waitWs: true,
    apps: [APP, LIMITED] });

// The member {user_id, user_info} of a user named name.
function member(name, more = {}) {
	return { user_id: name.toLowerCase(), user_info: { name, ...more } };
}

// A pusher-js client of d signed in presence channels as user (member()).
function client(d, user, opts = {}) {
	return pusherFor(d, { user, ...opts });
}

let serial = 0;

// A presence channel name of its own for a test.
function channelName(tag) {
	serial++;
	return `presence-${tag}-${process.pid}-${serial}`;
}

/*
 * A raw connection of d subscribed to channel as user: resolves the client
 * with its subscription_succeeded payload (reply.payload.presence).
 */
async function rawMember(d, app, channel, user) {
	const c = await connect(d, { key: app.key });
	const reply = await c.mustSubscribe(channel, { auth: signPresence(app,
	    c.socketId, channel, user) });
	c.presence = reply.payload.presence;
	return c;
}

// The presence a fresh raw subscriber of channel gets: the server's view.
async function serverView(d, app, channel, user = member('Probe')) {
	const c = await rawMember(d, app, channel, user);
	const view = c.presence;
	await c.close();
	return view;
}

// The ids of a presence payload, sorted.
function ids(presence) {
	return [...presence.ids].sort();
}

// What a pusher-js channel's log holds for event, as {id, info} list.
function memberEvents(channel, event) {
	return channel.log.filter((e) => e.event === event).map((e) => e.data);
}

describe('presence channels with pusher-js', () => {
	it('a join gets the members, their count and me', {
	    timeout: 60000 }, async () => {
		const name = channelName('join');
		const alice = client(s, member('Alice', { colour: 'red' }));
		const bob = client(s, member('Bob'));
		try {
			const a = await mustSubscribe(alice, name);
			assert.deepEqual(membersOf(a), { hash: { alice: { name:
			    'Alice', colour: 'red' } }, count: 1, me: { id: 'alice',
			    info: { name: 'Alice', colour: 'red' } } });
			const b = await mustSubscribe(bob, name);
			assert.deepEqual(membersOf(b), { hash: {
			    alice: { name: 'Alice', colour: 'red' },
			    bob: { name: 'Bob' } }, count: 2, me: { id: 'bob',
			    info: { name: 'Bob' } } });
			const added = await emitted(a, 'pusher:member_added');
			assert.deepEqual(added.data, { id: 'bob', info: { name:
			    'Bob' } });
			await waitFor(() => a.members.count === 2,
			    { what: 'alice to count bob' });
			// No one hears of their own arrival.
			assert.deepEqual(memberEvents(b, 'pusher:member_added'), []);
		} finally {
			disconnectAll([alice, bob]);
		}
	});

	it('subscription_succeeded on the wire: ids as strings, hash, count',
	    { timeout: 60000 }, async () => {
		const name = channelName('wire');
		const first = await rawMember(s, APP, name, { user_id: 42,
		    user_info: { n: 1 } });
		try {
			assert.deepEqual(first.presence, { ids: ['42'], hash:
			    { 42: { n: 1 } }, count: 1 });
			const second = await rawMember(s, APP, name, { user_id:
			    'u-7', user_info: null });
			try {
				assert.deepEqual(ids(second.presence), ['42', 'u-7']);
				assert.equal(second.presence.count, 2);
				assert.deepEqual(second.presence.hash['42'], { n: 1 });
				for (const id of second.presence.ids)
					assert.equal(typeof id, 'string');
				const m = await first.next({ event:
				    'pusher_internal:member_added', channel: name });
				assert.equal(typeof m.data, 'string', m.raw);
				assert.equal(String(m.payload.user_id), 'u-7', m.raw);
				await second.unsubscribe(name);
				const r = await first.next({ event:
				    'pusher_internal:member_removed', channel: name });
				assert.deepEqual(r.payload, { user_id: 'u-7' });
			} finally {
				await second.close();
			}
		} finally {
			await first.close();
		}
	});

	it('member_added and member_removed between three clients', {
	    timeout: 60000 }, async () => {
		const name = channelName('three');
		const alice = client(s, member('Alice'));
		const bob = client(s, member('Bob'));
		const carol = client(s, member('Carol'));
		try {
			const a = await mustSubscribe(alice, name);
			const b = await mustSubscribe(bob, name);
			await emitted(a, 'pusher:member_added', { pred: (e) =>
			    e.data.id === 'bob' });
			const c = await mustSubscribe(carol, name);
			assert.deepEqual(Object.keys(membersOf(c).hash).sort(),
			    ['alice', 'bob', 'carol']);
			for (const ch of [a, b]) {
				await emitted(ch, 'pusher:member_added', { pred: (e) =>
				    e.data.id === 'carol' });
			}
			assert.deepEqual(memberEvents(a, 'pusher:member_added'),
			    [{ id: 'bob', info: { name: 'Bob' } },
			    { id: 'carol', info: { name: 'Carol' } }]);
			assert.deepEqual(memberEvents(b, 'pusher:member_added'),
			    [{ id: 'carol', info: { name: 'Carol' } }]);
			assert.deepEqual(memberEvents(c, 'pusher:member_added'), []);

			// Bob unsubscribes: Alice and Carol are told.
			bob.unsubscribe(name);
			for (const ch of [a, c]) {
				const e = await emitted(ch, 'pusher:member_removed',
				    { pred: (x) => x.data.id === 'bob' });
				assert.deepEqual(e.data, { id: 'bob', info: { name:
				    'Bob' } });
			}
			// Carol closes her connection: Alice is told.
			disconnect(carol);
			await emitted(a, 'pusher:member_removed', { pred: (e) =>
			    e.data.id === 'carol' });
			assert.deepEqual(membersOf(a).hash, { alice: { name:
			    'Alice' } });
			assert.equal(a.members.count, 1);
			assert.deepEqual((await serverView(s, APP, name)).ids
			    .filter((id) => id !== 'probe'), ['alice']);
		} finally {
			disconnectAll([alice, bob, carol]);
		}
	});

	it('a user with two connections is one member until both leave', {
	    timeout: 60000 }, async () => {
		const name = channelName('tabs');
		const watcher = client(s, member('Watcher'));
		const tab1 = client(s, member('Dana'));
		const tab2 = client(s, member('Dana'));
		let barrier = null;
		try {
			const w = await mustSubscribe(watcher, name);
			const t1 = await mustSubscribe(tab1, name);
			await emitted(w, 'pusher:member_added', { pred: (e) =>
			    e.data.id === 'dana' });
			const t2 = await mustSubscribe(tab2, name);
			// The second tab sees Dana once, and herself as me.
			assert.deepEqual(membersOf(t2), { hash: { watcher: {
			    name: 'Watcher' }, dana: { name: 'Dana' } }, count: 2,
			    me: { id: 'dana', info: { name: 'Dana' } } });
			// The server counts her once.
			let view = await serverView(s, APP, name);
			assert.deepEqual(ids(view), ['dana', 'probe', 'watcher']);
			assert.equal(view.count, 3);
			// The first tab sees no second Dana arrive (the probe
			// came and went after her).
			await emitted(t1, 'pusher:member_removed', { pred: (e) =>
			    e.data.id === 'probe' });
			assert.deepEqual(memberEvents(t1, 'pusher:member_added')
			    .map((m) => m.id), ['probe']);

			// One tab closes: Dana stays.
			disconnect(tab1);
			// Whatever the close made the server send was sent
			// before the member_added of a user joining after it.
			await sleep(300);
			barrier = await rawMember(s, APP, name, member('Barrier'));
			await emitted(w, 'pusher:member_added', { pred: (e) =>
			    e.data.id === 'barrier' });
			assert.deepEqual(memberEvents(w, 'pusher:member_removed')
			    .map((m) => m.id), ['probe'], 'Dana was removed while ' +
			    'a connection of hers was still subscribed');
			assert.equal(w.members.get('dana').id, 'dana');
			view = await serverView(s, APP, name);
			assert.deepEqual(ids(view), ['barrier', 'dana', 'probe',
			    'watcher']);

			// The other one closes: Dana is gone.
			disconnect(tab2);
			const e = await emitted(w, 'pusher:member_removed',
			    { pred: (x) => x.data.id === 'dana' });
			assert.deepEqual(e.data, { id: 'dana', info: { name:
			    'Dana' } });
			assert.equal(memberEvents(w, 'pusher:member_removed')
			    .filter((m) => m.id === 'dana').length, 1);
			view = await serverView(s, APP, name);
			assert.deepEqual(ids(view), ['barrier', 'probe', 'watcher']);
		} finally {
			disconnectAll([watcher, tab1, tab2]);
			await closeAll([barrier]);
		}
	});

	it('a pong timeout removes the member', { timeout: 60000 },
	    async () => {
		const d = await start({ name: 'ws-presence-pong', waitWs: true,
		    apps: [APP], websocket: { activity_timeout: 1,
		    pong_timeout: 1 } });
		const name = channelName('pong');
		const watcher = client(d, member('Watcher'));
		let silent = null;
		try {
			const w = await mustSubscribe(watcher, name);
			// A raw client never answers the server's pusher:ping.
			silent = await rawMember(d, APP, name, member('Erin'));
			await emitted(w, 'pusher:member_added', { pred: (e) =>
			    e.data.id === 'erin' });
			const close = await silent.waitClose({ timeout: 15000 });
			assert.equal(close.code, 4201, JSON.stringify(close));
			const e = await emitted(w, 'pusher:member_removed',
			    { pred: (x) => x.data.id === 'erin' });
			assert.deepEqual(e.data, { id: 'erin', info: { name:
			    'Erin' } });
			// pusher-js answers the pings: the watcher stayed.
			assert.equal(watcher.connection.state, 'connected');
			assert.deepEqual(membersOf(w).hash, { watcher: { name:
			    'Watcher' } });
		} finally {
			disconnectAll([watcher]);
			await closeAll([silent]);
			await d.stop();
		}
	});

	it('over presence_max_members: subscription_error 403', {
	    timeout: 60000 }, async () => {
		const name = channelName('full');
		const opts = { app: LIMITED };
		const users = ['Ann', 'Ben', 'Cid'].map((n) => client(s,
		    member(n), opts));
		const fourth = client(s, member('Dee'), opts);
		const again = client(s, member('Ann'), opts);
		const later = client(s, member('Dee'), opts);
		try {
			const channels = [];
			for (const p of users)
				channels.push(await mustSubscribe(p, name));
			const r = await subscribe(fourth, name);
			assert.equal(r.ok, false, 'a fourth member was let in');
			assert.equal(r.error.type, 'LimitReached',
			    JSON.stringify(r.error));
			assert.equal(r.error.status, 403, JSON.stringify(r.error));
			assert.equal(typeof r.error.error, 'string');
			assert.ok(r.error.error.length > 0);
			assert.equal(fourth.connection.state, 'connected');
			// A second connection of a member is no new member.
			const a2 = await mustSubscribe(again, name);
			assert.equal(a2.members.count, 3);
			// Nobody heard of Dee.
			for (const ch of channels) {
				assert.ok(!memberEvents(ch, 'pusher:member_added')
				    .some((m) => m.id === 'dee'));
			}
			// Once one leaves, there is room again (pusher-js does
			// not subscribe again after a subscription_error until it
			// reconnects: Dee comes back on a new connection).
			disconnect(users[2]);
			await emitted(channels[0], 'pusher:member_removed',
			    { pred: (e) => e.data.id === 'cid' });
			const ok = await subscribe(later, name);
			assert.ok(ok.ok, JSON.stringify(ok.error));
			assert.equal(ok.channel.members.count, 3);
		} finally {
			disconnectAll([...users, fourth, again, later]);
		}
	});

	it('a forged or missing auth: subscription_error 401', {
	    timeout: 60000 }, async () => {
		const name = channelName('forged');
		const forger = new (sdkFor(APP).constructor)({ appId: '1',
		    key: APP.key, secret: 'not-the-secret-0123456789',
		    cluster: 'x' });
		const user = member('Mallory');
		const p = client(s, user, { authorize: ({ socketId,
		    channelName: ch }) => forger.authorizeChannel(socketId, ch,
		    user) });
		const watcher = client(s, member('Watcher'));
		const raw = await connect(s);
		try {
			const w = await mustSubscribe(watcher, name);
			const r = await subscribe(p, name);
			assert.equal(r.ok, false, 'the forged auth was accepted');
			assert.equal(r.error.type, 'AuthError',
			    JSON.stringify(r.error));
			assert.equal(r.error.status, 401, JSON.stringify(r.error));

			// No auth at all.
			let m = await raw.subscribe(name, { channelData:
			    JSON.stringify(user) });
			assert.equal(m.event, 'pusher:subscription_error', m.raw);
			assert.equal(m.payload.type, 'AuthError', m.raw);
			assert.equal(m.payload.status, 401, m.raw);
			// An auth signed for one member, sent with the
			// channel_data of another.
			const signed = signPresence(APP, raw.socketId, name,
			    member('Eve'));
			m = await raw.subscribe(name, { auth: signed.auth,
			    channelData: JSON.stringify(member('Admin')) });
			assert.equal(m.event, 'pusher:subscription_error', m.raw);
			assert.equal(m.payload.status, 401, m.raw);
			// An auth signed for another socket.
			const other = signPresence(APP, '1234.5678', name, user);
			m = await raw.subscribe(name, { auth: other });
			assert.equal(m.event, 'pusher:subscription_error', m.raw);
			assert.equal(m.payload.status, 401, m.raw);
			// An auth signed for a private channel of that name.
			const bare = sdkFor(APP).authorizeChannel(raw.socketId,
			    name);
			m = await raw.subscribe(name, { auth: bare.auth,
			    channelData: JSON.stringify(user) });
			assert.equal(m.event, 'pusher:subscription_error', m.raw);
			assert.equal(m.payload.status, 401, m.raw);

			// Nobody joined, nobody was announced.
			assert.ok(raw.isOpen);
			assert.equal(p.connection.state, 'connected');
			await sleep(200);
			assert.deepEqual(memberEvents(w, 'pusher:member_added'), []);
			const view = await serverView(s, APP, name);
			assert.deepEqual(ids(view), ['probe', 'watcher']);
		} finally {
			disconnectAll([p, watcher]);
			await closeAll([raw]);
		}
	});

	it('bad channel_data: subscription_error 400', { timeout: 60000 },
	    async () => {
		const name = channelName('bad-data');
		const raw = await connect(s);
		const big = { user_id: 'big', user_info: { blob: 'x'.repeat(
		    2000) } };
		const p = client(s, big);
		const watcher = client(s, member('Watcher'));
		try {
			const w = await mustSubscribe(watcher, name);
			const sdk = sdkFor(APP);
			// Each signed by the SDK: the signature is right, the
			// data is not.
			const cases = [
				['no channel_data', sdk.authorizeChannel(
				    raw.socketId, name)],
				['a JSON string', sdk.authorizeChannel(raw.socketId,
				    name, 'alice')],
				['no user_id', sdk.authorizeChannel(raw.socketId,
				    name, { user_info: { name: 'Nobody' } })],
				['a user_id of 129 characters', sdk.authorizeChannel(
				    raw.socketId, name, { user_id: 'u'.repeat(129) })],
				['an object as user_id', sdk.authorizeChannel(
				    raw.socketId, name, { user_id: { id: 1 } })],
				['a boolean as user_id', sdk.authorizeChannel(
				    raw.socketId, name, { user_id: true })],
				['user_info over 1K', sdk.authorizeChannel(
				    raw.socketId, name, big)],
			];
			const text = 'not json {';
			cases.push(['channel_data that is not JSON', {
			    auth: `${APP.key}:${sdk.config.token.sign(
			    `${raw.socketId}:${name}:${text}`)}`,
			    channel_data: text }]);
			// Every case is tried; the wrong answers are listed.
			const wrong = [];
			for (const [what, signed] of cases) {
				const m = await raw.subscribe(name, { auth: signed });
				if (m.event !== 'pusher:subscription_error' ||
				    m.payload.type !== 'InvalidChannelData' ||
				    m.payload.status !== 400 ||
				    !(m.payload.error.length > 0))
					wrong.push(`${what}: ${m.raw}`);
			}
			assert.deepEqual(wrong, []);
			assert.ok(raw.isOpen);
			// pusher-js is told the same.
			const r = await subscribe(p, name);
			assert.equal(r.ok, false, 'a 2K user_info was accepted');
			assert.equal(r.error.type, 'InvalidChannelData',
			    JSON.stringify(r.error));
			assert.equal(r.error.status, 400, JSON.stringify(r.error));
			// The longest user_id and a fair user_info are fine.
			const fine = await raw.subscribe(name, { auth:
			    sdk.authorizeChannel(raw.socketId, name, { user_id:
			    'u'.repeat(128), user_info: { blob: 'x'.repeat(
			    500) } }) });
			assert.equal(fine.event,
			    'pusher_internal:subscription_succeeded', fine.raw);
			const added = await emitted(w, 'pusher:member_added');
			assert.equal(added.data.id, 'u'.repeat(128));
			assert.equal(memberEvents(w, 'pusher:member_added').length,
			    1);
		} finally {
			disconnectAll([p, watcher]);
			await closeAll([raw]);
		}
	});
});

describe('presence channels with laravel-echo', () => {
	it('join() with here, joining and leaving; events as published', {
	    timeout: 60000 }, async () => {
		const room = `room-${process.pid}`;
		const alice = echoFor(s, { user: member('Alice') });
		const bob = echoFor(s, { user: member('Bob') });
		try {
			const seen = { alice: [], bob: [] };
			const greetings = [];
			const joinAs = (echo, who) => echo.join(room)
			    .here((users) => seen[who].push(['here', users]))
			    .joining((user) => seen[who].push(['joining', user]))
			    .leaving((user) => seen[who].push(['leaving', user]))
			    .error((e) => seen[who].push(['error', e]));
			joinAs(alice, 'alice').listen('.greeting', (e) =>
			    greetings.push(e.message));
			await waitFor(() => seen.alice.length > 0,
			    { what: 'alice\'s here' });
			assert.deepEqual(seen.alice, [['here', [{ name: 'Alice' }]]]);

			joinAs(bob, 'bob');
			await waitFor(() => seen.bob.length > 0,
			    { what: 'bob\'s here' });
			assert.equal(seen.bob[0][0], 'here', JSON.stringify(
			    seen.bob));
			assert.deepEqual(seen.bob[0][1].map((u) => u.name).sort(),
			    ['Alice', 'Bob']);
			await waitFor(() => seen.alice.length > 1,
			    { what: 'alice told of bob' });
			assert.deepEqual(seen.alice[1], ['joining', { name: 'Bob' }]);

			// An event posted to the channel: e.message, as Pusher.
			const r = await post(s.url, [{ event: 'greeting', channel:
			    `presence-${room}`, data: { message: 'hello' } }],
			    { key: APP.key });
			assert.equal(r.status, 202, r.text);
			await waitFor(() => greetings.length > 0,
			    { what: 'the greeting' });
			assert.deepEqual(greetings, ['hello']);

			bob.leave(room);
			await waitFor(() => seen.alice.length > 2,
			    { what: 'alice told bob left' });
			assert.deepEqual(seen.alice[2], ['leaving', { name: 'Bob' }]);
			assert.equal(seen.alice.length, 3, JSON.stringify(
			    seen.alice));
		} finally {
			disconnectAll([alice, bob]);
		}
	});
});
