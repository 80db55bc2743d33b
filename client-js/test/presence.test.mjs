// Presence channels and client events: join() with the authorizer's
// {auth, channel_data}, the member list at subscription, member_added and
// member_removed as users (not tabs) come and go, the list rebuilt after
// a reconnect; trigger() to the other subscribers (never back to the
// sender) with the sender's member on presence channels, and its errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { env } from './env.mjs';
import { FakeServer } from './fakes.mjs';

// An authorizer for user id (with info), signing as the fake server wants;
// its calls are kept in .calls.
function presenceAuthorizer(id, info) {
	const authorizer = async (socketId, channel) => {
		authorizer.calls.push([socketId, channel]);
		if (!/^presence-/.test(channel))
			return `web-key-0001:sig-${socketId}-${channel}`;
		const channelData = JSON.stringify({ user_id: id, user_info: info });
		return { auth: FakeServer.sign(socketId, channel, channelData),
		    channel_data: channelData };
	};
	authorizer.calls = [];
	return authorizer;
}

// A client of user id on e that records what its handlers of channel get
// (in .seen) and holds it (.channel).
function player(e, channel, id, info = { name: `player ${id}` }) {
	const authorizer = presenceAuthorizer(id, info);
	const client = e.make({ authorizer });
	const seen = { lists: [], added: [], removed: [], client: [], events: [],
	    errors: [] };
	client.on('error', (err) => seen.errors.push(err));
	const held = client.join(channel, {
		subscribed: (members) => seen.lists.push([...members.keys()]
		    .sort()),
		member_added: (member) => seen.added.push(member),
		member_removed: (member) => seen.removed.push(member),
		client: (data, name, member) => seen.client.push({ data, name,
		    member }),
		event: (envelope, name) => seen.events.push({ envelope, name }),
	});
	return { client, channel: held, seen, authorizer };
}

// The ids of a channel's members, sorted.
function ids(channel) {
	return [...channel.members.keys()].sort();
}

describe('presence channels', () => {
	it('subscribes with the authorizer\'s auth and channel_data; the ' +
	    'members and me', async () => {
		const e = env();
		const ann = player(e, 'presence-arena', 'ann', { name: 'Ann',
		    color: '#f00' });
		assert.equal(ann.channel.subscribed, false);
		await e.clock.tick(0);
		const sock = e.srv.sockets[0];
		assert.deepEqual(ann.authorizer.calls, [[sock.socketId,
		    'presence-arena']]);
		const channelData = JSON.stringify({ user_id: 'ann',
		    user_info: { name: 'Ann', color: '#f00' } });
		assert.deepEqual(sock.sentOf('pusher:subscribe').map((m) =>
		    m.data), [{ channel: 'presence-arena', auth: FakeServer.sign(
		    sock.socketId, 'presence-arena', channelData),
		    channel_data: channelData }]);
		assert.equal(ann.channel.subscribed, true);
		assert.deepEqual(ann.seen.lists, [['ann']]);
		assert.deepEqual(ann.channel.me, { id: 'ann', info: { name: 'Ann',
		    color: '#f00' } });
		assert.equal(ann.channel.members.get('ann'), ann.channel.me);

		// A user id that is a number is a string here, as in the
		// server's list.
		const bob = player(e, 'presence-arena', 7, { name: 'Bob' });
		await e.clock.tick(0);
		assert.deepEqual(bob.seen.lists, [['7', 'ann']]);
		assert.deepEqual(bob.channel.me, { id: '7', info: { name: 'Bob' } });
		assert.deepEqual(bob.channel.members.get('ann').info,
		    { name: 'Ann', color: '#f00' });
		assert.deepEqual(ann.seen.added, [{ id: '7', info:
		    { name: 'Bob' } }]);
		assert.deepEqual(ids(ann.channel), ['7', 'ann']);
		assert.deepEqual(ann.seen.errors, []);
		await e.shutdown();
	});

	it('members are users: a second tab is no new member, and a user ' +
	    'leaves with the last one', async () => {
		const e = env();
		const ann = player(e, 'presence-arena', 'ann');
		const bob1 = player(e, 'presence-arena', 'bob');
		await e.clock.tick(0);
		const bob2 = player(e, 'presence-arena', 'bob');
		await e.clock.tick(0);
		assert.deepEqual(ann.seen.added.map((m) => m.id), ['bob']);
		assert.deepEqual(bob2.seen.lists, [['ann', 'bob']]);
		assert.deepEqual(bob1.seen.added, []);

		// One of bob's tabs leaves: bob stays.
		bob1.channel.leave();
		assert.equal(bob1.channel.subscribed, false);
		assert.equal(bob1.channel.members.size, 0);
		assert.equal(bob1.channel.me, null);
		assert.deepEqual(e.srv.sockets[1].sentOf('pusher:unsubscribe')
		    .map((m) => m.data), [{ channel: 'presence-arena' }]);
		await e.clock.tick(0);
		assert.deepEqual(ann.seen.removed, []);
		assert.deepEqual(ids(ann.channel), ['ann', 'bob']);

		// The other closes: bob is gone, for ann as for the server.
		await bob2.client.close();
		await e.clock.tick(0);
		assert.deepEqual(ann.seen.removed, [{ id: 'bob', info:
		    { name: 'player bob' } }]);
		assert.deepEqual(ids(ann.channel), ['ann']);
		assert.deepEqual(e.srv.members('presence-arena').map((m) => m.id),
		    ['ann']);
		await e.shutdown();
	});

	it('after a reconnect: a new auth for the new socket_id and the ' +
	    'list again', async () => {
		const e = env();
		const ann = player(e, 'presence-arena', 'ann');
		const bob = player(e, 'presence-arena', 'bob');
		await e.clock.tick(0);
		const annSocket = e.srv.sockets[0];
		annSocket.serverClose(1006);
		assert.equal(ann.channel.subscribed, false);
		assert.equal(ann.channel.members.size, 0);
		assert.equal(ann.channel.me, null);
		await e.clock.tick(0);
		assert.deepEqual(bob.seen.removed.map((m) => m.id), ['ann']);
		await e.clock.tick(375);
		const again = e.srv.last;
		assert.notEqual(again, annSocket);
		assert.deepEqual(ann.authorizer.calls.map((c) => c[0]),
		    [annSocket.socketId, again.socketId]);
		assert.equal(ann.channel.subscribed, true);
		assert.deepEqual(ann.seen.lists, [['ann'], ['ann', 'bob']]);
		assert.equal(ann.channel.me.id, 'ann');
		// bob came second: ann was in its list, and is added again.
		assert.deepEqual(bob.seen.lists, [['ann', 'bob']]);
		assert.deepEqual(bob.seen.added.map((m) => m.id), ['ann']);
		assert.deepEqual(ann.seen.errors, []);
		await e.shutdown();
	});

	it('the authorizer is asked for private- and presence- channels only',
	    async () => {
		const e = env();
		const authorizer = presenceAuthorizer('ann');
		const c = e.make({ authorizer });
		c.join('game-1');
		c.join('private-room');
		c.join('presence-room');
		c.subscribe('events', () => {});
		await e.clock.tick(0);
		assert.deepEqual(authorizer.calls.map((call) => call[1]),
		    ['private-room', 'presence-room']);
		const sock = e.srv.last;
		assert.deepEqual(sock.sentOf('pusher:subscribe').map((m) =>
		    m.data.channel), ['game-1', 'events', 'private-room',
		    'presence-room']);
		assert.deepEqual(sock.sentOf('pusher:subscribe')[2].data,
		    { channel: 'private-room',
		    auth: `web-key-0001:sig-${sock.socketId}-private-room` });
		assert.deepEqual([...sock.subs].sort(), ['events', 'game-1',
		    'presence-room', 'private-room']);
		await e.shutdown();
	});

	it('a refused subscription is an error naming the channel', async () => {
		const e = env();
		// An authorizer that gives no channel_data for a presence
		// channel: the server refuses it.
		const c = e.make({ authorizer: (socketId, channel) =>
		    `web-key-0001:${socketId}:${channel}` });
		const seen = e.watch(c);
		const lists = [];
		const held = c.join('presence-x', { subscribed: (members) =>
		    lists.push(members.size) });
		await e.clock.tick(0);
		assert.deepEqual(seen.errors.map((x) => [x.code, x.channel, x.type,
		    x.status]), [['subscription', 'presence-x', 'AuthError', 401]]);
		assert.equal(held.subscribed, false);
		assert.deepEqual(lists, []);
		await e.shutdown();
	});

	it('server events go to the event handler of every hold; leaving ' +
	    'one keeps the others', async () => {
		const e = env();
		const ann = player(e, 'presence-arena', 'ann');
		const more = [];
		const off = ann.client.subscribe('presence-arena', (envelope,
		    name) => more.push([name, envelope.id]));
		await e.clock.tick(0);
		const sock = e.srv.last;
		assert.equal(sock.sentOf('pusher:subscribe').length, 1);
		const envelope = { id: 'e1', event: 'round',
		    channel: 'presence-arena', data: { n: 1 } };
		sock.deliverEvent(envelope);
		await e.clock.tick(0);
		assert.deepEqual(ann.seen.events, [{ name: 'round', envelope }]);
		assert.deepEqual(more, [['round', 'e1']]);
		off();
		assert.equal(sock.sentOf('pusher:unsubscribe').length, 0);
		assert.equal(ann.channel.subscribed, true);
		ann.channel.leave();
		assert.equal(sock.sentOf('pusher:unsubscribe').length, 1);
		await e.shutdown();
	});
});

describe('client events', () => {
	it('reach the other subscribers with the sender, never the sender',
	    async () => {
		const e = env();
		const ann = player(e, 'presence-arena', 'ann', { name: 'Ann' });
		const bob = player(e, 'presence-arena', 'bob');
		const cat = player(e, 'presence-arena', 'cat');
		await e.clock.tick(0);
		assert.equal(ann.client.trigger('presence-arena', 'client-move',
		    { x: 0.25, y: 0.5 }), true);
		assert.equal(bob.channel.trigger('client-hello', 'hi'), true);
		await e.clock.tick(0);
		const annMember = { id: 'ann', info: { name: 'Ann' } };
		assert.deepEqual(bob.seen.client, [{ data: { x: 0.25, y: 0.5 },
		    name: 'client-move', member: annMember }]);
		assert.deepEqual(cat.seen.client.map((c) => [c.name, c.data,
		    c.member.id]), [['client-move', { x: 0.25, y: 0.5 }, 'ann'],
		    ['client-hello', 'hi', 'bob']]);
		assert.deepEqual(ann.seen.client.map((c) => c.name),
		    ['client-hello']);
		assert.equal(bob.seen.client.length, 1);
		// Client events are not server events.
		assert.deepEqual(bob.seen.events, []);
		assert.deepEqual(e.srv.sockets[0].sentOf('client-move').map((m) =>
		    m.data), [{ x: 0.25, y: 0.5 }]);
		await e.shutdown();
	});

	it('on a private channel they come without a member', async () => {
		const e = env();
		const got = [];
		const authorizer = presenceAuthorizer('x');
		const a = e.make({ authorizer });
		const b = e.make({ authorizer });
		a.join('private-room');
		b.join('private-room', { client: (data, name, member) =>
		    got.push([data, name, member]) });
		await e.clock.tick(0);
		assert.equal(a.trigger('private-room', 'client-typing', { on: 1 }),
		    true);
		await e.clock.tick(0);
		assert.deepEqual(got, [[{ on: 1 }, 'client-typing', null]]);
		await e.shutdown();
	});

	it('a name without client- or a channel of another kind throws',
	    async () => {
		const e = env();
		const c = e.make({ authorizer: presenceAuthorizer('ann') });
		const held = c.join('presence-arena');
		await e.clock.tick(0);
		for (const [channel, name, what] of [
		    ['presence-arena', 'move', /"move": the name of a client event starts with client-/],
		    ['presence-arena', 'pusher:ping', /starts with client-/],
		    ['game-1', 'client-move', /"game-1": client events go on private- and presence- channels only/],
		    ['private-encrypted-x', 'client-move', /not private-encrypted-/],
		    ['cache-x', 'client-move', /private- and presence-/]]) {
			assert.throws(() => c.trigger(channel, name, {}),
			    { code: 'client_event', message: what });
		}
		assert.throws(() => held.trigger('move', {}),
		    { code: 'client_event' });
		assert.equal(e.srv.last.sent.filter((m) =>
		    !/^(pusher|sluice):/.test(m.event)).length, 0);
		await e.shutdown();
	});

	it('false when they cannot go: not joined, not yet subscribed, left, ' +
	    'not connected', async () => {
		const e = env();
		const c = e.make({ authorizer: presenceAuthorizer('ann') });
		const held = c.join('presence-arena');
		assert.equal(held.trigger('client-move', {}), false);
		await e.clock.tick(0);
		assert.equal(c.trigger('private-other', 'client-move', {}), false);
		assert.equal(held.trigger('client-move', {}), true);
		e.srv.last.serverClose(1006);
		assert.equal(held.trigger('client-move', {}), false);
		await e.clock.tick(375);
		assert.equal(held.trigger('client-move', {}), true);
		held.leave();
		assert.equal(held.trigger('client-move', {}), false);
		assert.deepEqual(e.srv.sockets.map((s) =>
		    s.sentOf('client-move').length), [1, 1]);

		// Without a WebSocket at all.
		const offline = e.make({ wsUrl: undefined });
		const none = offline.join('presence-arena', {});
		assert.equal(none.trigger('client-move', {}), false);
		assert.equal(none.subscribed, false);
		none.leave();
		await e.shutdown();
	});

	it('the server\'s refusal is an error', async () => {
		const e = env();
		const c = e.make({ authorizer: presenceAuthorizer('ann') });
		const seen = e.watch(c);
		c.join('presence-arena');
		await e.clock.tick(0);
		e.srv.last.deliver({ event: 'pusher:error', data: { code: 4301,
		    message: 'client events over 10/s: dropped' } });
		await e.clock.tick(0);
		assert.deepEqual(seen.errors.map((x) => [x.code, x.message]),
		    [[4301, 'client events over 10/s: dropped']]);
		assert.equal(c.state, 'connected');
		await e.shutdown();
	});
});
