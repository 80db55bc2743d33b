// 03-client-presence: join() and trigger() of the browser client
// (client-js) against a real sluiced, over the ws package, with the auth
// made by the pusher server SDK (authorizeChannel with presenceData, the
// {auth, channel_data} the authorizer hands back): the member list and me,
// a user with two connections one member (added once, removed with its
// last), client events to the others with the sender's member and never
// to the sender, on presence and private channels; a client event over
// sluiced's rate is an error 4301 and the connection stays.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../../../tests/lib/amqp.mjs';
import { TEST_APP, sleep, waitFor } from '../../../tests/lib/sluiced.mjs';
import { sdkFor } from '../../../tests/lib/ws.mjs';
import { client } from './lib.mjs';

const APP = { ...TEST_APP, client_events: 'live', client_event_rate: 10,
    client_event_burst: 20 };

const { s } = useSluiced({ name: 'cjs-presence', waitWs: true,
    apps: [APP] });

// A client of user id (with info) that keeps what its handlers of
// channel get.
function user(channel, id, info) {
	const c = client(s, {
		authorizer: (socketId, name) => /^presence-/.test(name) ?
		    sdkFor(APP).authorizeChannel(socketId, name,
		    { user_id: id, user_info: info }) :
		    sdkFor(APP).authorizeChannel(socketId, name),
	});
	const seen = { lists: [], added: [], removed: [], client: [] };
	c.channel = c.join(channel, {
		subscribed: (members) => seen.lists.push([...members.keys()]
		    .sort()),
		member_added: (member) => seen.added.push(member),
		member_removed: (member) => seen.removed.push(member),
		client: (data, name, member) => seen.client.push({ data, name,
		    member }),
	});
	c.seen = seen;
	return c;
}

const subscribed = (c) => waitFor(() => c.channel.subscribed,
    { what: `${c.channel.name} subscribed` });

describe('presence and client events with a real sluiced', () => {
	it('members as users, client events to the others', async () => {
		const channel = `presence-room-${randomBytes(3).toString('hex')}`;
		const ann = user(channel, 'ann', { name: 'Ann' });
		await subscribed(ann);
		assert.deepEqual(ann.seen.lists, [['ann']]);
		assert.deepEqual(ann.channel.me, { id: 'ann', info:
		    { name: 'Ann' } });
		const bob1 = user(channel, 42, { name: 'Bob' });
		const bob2 = user(channel, 42, { name: 'Bob' });
		const all = [ann, bob1, bob2];
		try {
			await subscribed(bob1);
			await subscribed(bob2);
			await waitFor(() => ann.channel.members.size === 2,
			    { what: 'ann sees bob' });
			assert.deepEqual(ann.seen.added, [{ id: '42', info:
			    { name: 'Bob' } }]);
			assert.deepEqual([...bob2.channel.members.keys()].sort(),
			    ['42', 'ann']);
			assert.equal(bob2.channel.me.id, '42');

			assert.equal(ann.trigger(channel, 'client-move', { x: 1 }),
			    true);
			assert.equal(bob1.channel.trigger('client-say', { text: 'hi' }),
			    true);
			await waitFor(() => bob2.seen.client.length === 2 &&
			    ann.seen.client.length === 1 &&
			    bob1.seen.client.length === 1, { what: 'client events' });
			assert.deepEqual(bob1.seen.client, [{ data: { x: 1 },
			    name: 'client-move', member: { id: 'ann', info:
			    { name: 'Ann' } } }]);
			assert.deepEqual(bob2.seen.client.map((e) => [e.name, e.data,
			    e.member.id]), [['client-move', { x: 1 }, 'ann'],
			    ['client-say', { text: 'hi' }, '42']]);
			assert.deepEqual(ann.seen.client.map((e) => [e.name,
			    e.member.id]), [['client-say', '42']]);
			for (const c of all)
				assert.deepEqual(c.errors, []);

			// One of bob's connections goes: bob stays; the other:
			// bob is removed.
			await bob1.close();
			await sleep(300);
			assert.deepEqual(ann.seen.removed, []);
			await bob2.close();
			await waitFor(() => ann.seen.removed.length === 1,
			    { what: 'bob removed' });
			assert.deepEqual(ann.seen.removed, [{ id: '42', info:
			    { name: 'Bob' } }]);
			assert.deepEqual([...ann.channel.members.keys()], ['ann']);
		} finally {
			await Promise.all(all.map((c) => c.close()));
		}
	});

	it('a private channel: no member; over the rate: 4301, still ' +
	    'connected', async () => {
		const channel = `private-room-${randomBytes(3).toString('hex')}`;
		const a = user(channel, 'a');
		const b = user(channel, 'b');
		try {
			await subscribed(a);
			await subscribed(b);
			for (let i = 0; i < 40; i++)
				assert.equal(a.trigger(channel, 'client-tick', { i }), true);
			await waitFor(() => a.errors.length > 0, { what: '4301' });
			await sleep(300);
			assert.ok(a.errors.every((e) => e.code === 4301),
			    a.errors.map((e) => `${e.code} ${e.message}`).join('; '));
			const got = b.seen.client;
			assert.ok(got.length >= 20 && got.length < 40,
			    `${got.length} of 40 delivered`);
			assert.ok(got.every((e) => e.name === 'client-tick' &&
			    e.member === null));
			assert.equal(got.length + a.errors.length, 40);
			assert.equal(a.state, 'connected');
			assert.throws(() => a.trigger('game-1', 'client-tick', {}),
			    { code: 'client_event' });
		} finally {
			await Promise.all([a.close(), b.close()]);
		}
	});
});
