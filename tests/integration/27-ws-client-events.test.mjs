// 27-ws-client-events: client events (client-*) with unmodified pusher-js 8
// and laravel-echo: channel.trigger() reaches every other subscriber of a
// private or presence channel and never the sender, with the sender's
// user_id on presence channels and any JSON data, relayed as every event
// is; Echo's whisper() and listenForWhisper();
// refused with pusher:error (the connection stays open, nobody gets the
// event) on public channels, on private-encrypted- channels, when not
// subscribed and with client_events = off; over client_event_rate, 4301;
// client_events = forward makes the event an accepted one (in RabbitMQ
// with source "client", to envelope subscribers) and live does not.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { connected, disconnectAll, echoFor, errorCodes, listen,
    mustSubscribe, pusherFor, received } from '../lib/pusher.mjs';
import { TEST_APP, post, sleep, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor, signChannel, signPresence } from
    '../lib/ws.mjs';

const MASTER_KEY = randomBytes(32).toString('base64');

// client_events = forward (the default), client_event_rate 10/s and
// client_event_burst 20 (the defaults).
const APP = { ...TEST_APP, publish_channels: [...TEST_APP.publish_channels,
    'private-*', 'presence-*'] };
const LIVE = { id: 'live', key: 'live-key-0001',
    secret: 'live-secret-0123456789', publish_channels: ['events',
    'private-*'], client_events: 'live' };
const OFF = { id: 'off', key: 'off-key-0001',
    secret: 'off-secret-0123456789', client_events: 'off' };

const { s, broker } = useSluiced({ name: 'ws-client-events', waitWs: true,
    waitReady: true, apps: [APP, LIVE, OFF] });

let serial = 0;

// A channel name of its own for a test, with prefix.
function channelName(prefix) {
	serial++;
	return `${prefix}${process.pid}-${serial}`;
}

function runId() {
	return randomBytes(4).toString('hex');
}

// The member {user_id, user_info} of a user named name.
function member(name) {
	return { user_id: name.toLowerCase(), user_info: { name } };
}

// The pusher:error messages p was sent, as {code, message}.
function pusherErrors(p) {
	return p.errors.filter((e) => e.type === 'PusherError').map((e) =>
	    e.data);
}

/*
 * Checks that a refused client event left sender with a pusher:error (not
 * 4301) and still connected, and that none of the channels got it: a
 * client event sent after it on a channel all of them share (probe:
 * {sender, channel}) arrives first.
 */
async function assertRefused(sender, before, channels, what) {
	await waitFor(() => pusherErrors(sender).length > before,
	    { what: `a pusher:error for ${what}` });
	const [e] = pusherErrors(sender).slice(before);
	assert.equal(typeof e.message, 'string', JSON.stringify(e));
	assert.ok(e.message.length > 0, JSON.stringify(e));
	assert.notEqual(e.code, 4301, `${what}: ${JSON.stringify(e)}`);
	assert.equal(sender.connection.state, 'connected', what);
	await sleep(300);
	for (const ch of channels) {
		assert.deepEqual(ch.got.filter((x) => x.event.startsWith(
		    'client-')), [], `${what}: delivered to ${ch.name}`);
	}
}

/*
 * Takes messages from queue until one that pred accepts comes (every
 * message taken is returned, in order), or timeout ms pass.
 */
async function drainUntil(queue, pred, { timeout = 15000 } = {}) {
	const taken = [];
	await waitFor(async () => {
		taken.push(...await broker.drain(queue));
		return taken.some(pred);
	}, { timeout, interval: 100, what: 'the marker in RabbitMQ' });
	return taken;
}

describe('client events with pusher-js', () => {
	it('reach the other subscribers of a private channel, not the ' +
	    'sender', { timeout: 60000 }, async () => {
		const name = channelName('private-arena-');
		const [alice, bob, carol] = ['Alice', 'Bob', 'Carol'].map(() =>
		    pusherFor(s));
		try {
			const a = await mustSubscribe(alice, name);
			const b = await mustSubscribe(bob, name);
			const c = await mustSubscribe(carol, name);
			const moves = [b, c].map((ch) => listen(ch, 'client-move'));
			assert.equal(a.trigger('client-move', { x: 1, y: 2 }), true);
			for (const ch of [b, c]) {
				const [e] = await received(ch, 1);
				assert.equal(e.event, 'client-move');
				assert.deepEqual(e.data, { x: 1, y: 2 });
			}
			// No user_id on a private channel.
			for (const heard of moves)
				assert.deepEqual(heard, [{ data: { x: 1, y: 2 },
				    metadata: {} }]);
			// Bob answers: Alice gets his event, and hers never
			// came back to her.
			b.trigger('client-ack', { ok: true });
			const [e] = await received(a, 1);
			assert.equal(e.event, 'client-ack');
			assert.deepEqual(a.got.map((x) => x.event), ['client-ack']);
			await sleep(100);
			assert.deepEqual(b.got.map((x) => x.event), ['client-move']);
			assert.deepEqual(c.got.map((x) => x.event), ['client-move',
			    'client-ack']);
		} finally {
			disconnectAll([alice, bob, carol]);
		}
	});

	it('carry the sender\'s user_id on a presence channel', {
	    timeout: 60000 }, async () => {
		const name = channelName('presence-arena-');
		const alice = pusherFor(s, { user: member('Alice') });
		const bob = pusherFor(s, { user: member('Bob') });
		const raw = await connect(s);
		try {
			const a = await mustSubscribe(alice, name);
			const b = await mustSubscribe(bob, name);
			await raw.mustSubscribe(name, { auth: signPresence(APP,
			    raw.socketId, name, member('Raw')) });
			const moves = listen(b, 'client-move');
			const waves = listen(a, 'client-wave');
			a.trigger('client-move', { x: 10, y: 20 });
			const [e] = await received(b, 1);
			assert.equal(e.event, 'client-move');
			assert.deepEqual(moves, [{ data: { x: 10, y: 20 }, metadata:
			    { user_id: 'alice' } }]);
			// On the wire: data a JSON string, user_id beside it.
			const m = await raw.next({ event: 'client-move' });
			assert.equal(m.channel, name, m.raw);
			assert.equal(typeof m.data, 'string', m.raw);
			assert.deepEqual(JSON.parse(m.data), { x: 10, y: 20 });
			assert.equal(m.user_id, 'alice', m.raw);
			// From the raw connection: its user_id.
			await raw.trigger(name, 'client-wave', { hand: 'left' });
			const [w] = await received(a, 1);
			assert.equal(w.event, 'client-wave');
			assert.deepEqual(waves, [{ data: { hand: 'left' }, metadata:
			    { user_id: 'raw' } }]);
			await received(b, 2);
			await sleep(100);
			assert.deepEqual(raw.drainInbox((x) => x.event &&
			    x.event.startsWith('client-')), [], 'echoed to the ' +
			    'raw sender');
			assert.deepEqual(a.got.map((x) => x.event), ['client-wave']);
		} finally {
			disconnectAll([alice, bob]);
			await closeAll([raw]);
		}
	});

	it('carry any JSON data, as Pusher relays it', { timeout: 60000 },
	    async () => {
		const name = channelName('private-types-');
		const sender = pusherFor(s);
		const other = pusherFor(s);
		const raw = await connect(s);
		try {
			const ch = await mustSubscribe(sender, name);
			const o = await mustSubscribe(other, name);
			await raw.mustSubscribe(name, { auth: signChannel(APP,
			    raw.socketId, name) });
			const values = ['hi', '{"x":1}', 5, true, null, [1, 'a'],
			    { x: 1 }];
			for (const v of values)
				ch.trigger('client-value', v);
			const got = await received(o, values.length).catch((e) => {
				e.message += `; the sender was told ` +
				    JSON.stringify(pusherErrors(sender));
				throw e;
			});
			assert.deepEqual(got.map((e) => e.data), ['hi', { x: 1 }, 5,
			    true, null, [1, 'a'], { x: 1 }]);
			// On the wire, as for every event: a string as it is,
			// any other value serialized once.
			const wire = await raw.take({ event: 'client-value' },
			    values.length);
			assert.deepEqual(wire.map((m) => m.data), ['hi', '{"x":1}',
			    '5', 'true', 'null', '[1,"a"]', '{"x":1}']);
			assert.deepEqual(pusherErrors(sender), []);
		} finally {
			disconnectAll([sender, other]);
			await closeAll([raw]);
		}
	});

	it('are refused on a public channel', { timeout: 60000 }, async () => {
		const name = channelName('game-');
		const sender = pusherFor(s);
		const other = pusherFor(s);
		try {
			const ch = await mustSubscribe(sender, name);
			const o = await mustSubscribe(other, name);
			const before = pusherErrors(sender).length;
			ch.trigger('client-move', { x: 1 });
			await assertRefused(sender, before, [o], 'a public channel');
		} finally {
			disconnectAll([sender, other]);
		}
	});

	it('are refused from a connection not subscribed to the channel', {
	    timeout: 60000 }, async () => {
		const name = channelName('private-closed-');
		const outsider = pusherFor(s);
		const inside = pusherFor(s);
		try {
			await connected(outsider);
			const o = await mustSubscribe(inside, name);
			const before = pusherErrors(outsider).length;
			outsider.send_event('client-move', { x: 1 }, name);
			await assertRefused(outsider, before, [o], 'not subscribed');
			// And after an unsubscribe.
			const left = await mustSubscribe(outsider, name);
			outsider.unsubscribe(name);
			await sleep(200);
			const again = pusherErrors(outsider).length;
			left.trigger('client-move', { x: 2 });
			await assertRefused(outsider, again, [o], 'unsubscribed');
		} finally {
			disconnectAll([outsider, inside]);
		}
	});

	it('are refused on a private-encrypted- channel', {
	    timeout: 60000 }, async () => {
		const name = channelName('private-encrypted-arena-');
		const sdk = sdkFor(APP, { encryptionMasterKeyBase64: MASTER_KEY });
		const listener = pusherFor(s, { sdk });
		// pusher-js will not send one: a raw client does.
		const raw = await connect(s);
		try {
			const l = await mustSubscribe(listener, name);
			const signed = sdk.authorizeChannel(raw.socketId, name);
			assert.ok(signed.shared_secret);
			await raw.mustSubscribe(name, { auth: signed.auth });
			await raw.trigger(name, 'client-move', { nonce: 'AAAA',
			    ciphertext: 'BBBB' });
			const e = await raw.next('pusher:error');
			assert.equal(typeof e.payload.message, 'string', e.raw);
			assert.notEqual(e.payload.code, 4301, e.raw);
			await raw.ping();
			assert.ok(raw.isOpen);
			await sleep(300);
			assert.deepEqual(l.got, []);
		} finally {
			disconnectAll([listener]);
			await closeAll([raw]);
		}
	});

	it('are refused with client_events = off', { timeout: 60000 },
	    async () => {
		const name = channelName('private-off-');
		const sender = pusherFor(s, { app: OFF });
		const other = pusherFor(s, { app: OFF });
		try {
			const ch = await mustSubscribe(sender, name);
			const o = await mustSubscribe(other, name);
			const before = pusherErrors(sender).length;
			ch.trigger('client-move', { x: 1 });
			await assertRefused(sender, before, [o], 'client_events = off');
		} finally {
			disconnectAll([sender, other]);
		}
	});

	it('over client_event_rate: 4301, dropped, the connection stays open',
	    { timeout: 60000 }, async () => {
		const name = channelName('private-rate-');
		const sender = pusherFor(s);
		const other = pusherFor(s);
		const SENT = 60;
		const BURST = 20;
		const RATE = 10;
		try {
			const ch = await mustSubscribe(sender, name);
			const o = await mustSubscribe(other, name);
			const t0 = Date.now();
			for (let i = 0; i < SENT; i++)
				ch.trigger('client-move', { i });
			const elapsed = (Date.now() - t0) / 1000;
			await waitFor(() => errorCodes(sender).includes(4301),
			    { what: 'a 4301' });
			// Whatever passed has come once the error did; a little
			// more time lets late ones show.
			await sleep(500);
			const got = o.got.length;
			assert.ok(got >= BURST, `only ${got} of a burst of ${BURST}`);
			assert.ok(got <= BURST + Math.ceil(RATE * (elapsed + 0.7)),
			    `${got} of ${SENT} passed in ${elapsed} s`);
			// In order, none twice.
			const seq = o.got.map((e) => e.data.i);
			assert.deepEqual(seq, [...seq].sort((x, y) => x - y));
			assert.equal(new Set(seq).size, seq.length);
			for (const e of pusherErrors(sender))
				assert.equal(e.code, 4301, JSON.stringify(e));
			assert.equal(sender.connection.state, 'connected');
			// The bucket fills again: a later event passes.
			await sleep(1500);
			ch.trigger('client-move', { i: 'late' });
			await waitFor(() => o.got.some((e) => e.data.i === 'late'),
			    { what: 'an event after the pause' });
			assert.deepEqual(sender.states.filter((st) =>
			    st !== 'connected' && st !== 'connecting'), []);
		} finally {
			disconnectAll([sender, other]);
		}
	});
});

describe('client events with laravel-echo', () => {
	it('whisper() and listenForWhisper() on private and presence ' +
	    'channels', { timeout: 60000 }, async () => {
		const board = `board-${process.pid}`;
		const room = `room-${process.pid}`;
		const alice = echoFor(s, { user: member('Alice') });
		const bob = echoFor(s, { user: member('Bob') });
		try {
			const heard = [];
			const subscribed = [];
			const onPrivate = (echo) => echo.private(board)
			    .subscribed(() => subscribed.push('private'));
			onPrivate(alice).listenForWhisper('typing', (e) =>
			    heard.push(['private', e]));
			const bobBoard = onPrivate(bob);
			alice.join(room).listenForWhisper('typing', (e) =>
			    heard.push(['presence', e]))
			    .here(() => subscribed.push('presence'));
			const bobRoom = bob.join(room).here(() =>
			    subscribed.push('presence'));
			await waitFor(() => subscribed.length === 4,
			    { what: () => `four subscriptions (${subscribed})` });
			bobBoard.whisper('typing', { name: 'Bob' });
			bobRoom.whisper('typing', { name: 'Bob', in: 'room' });
			await waitFor(() => heard.length === 2,
			    { what: () => `two whispers (${JSON.stringify(heard)})` });
			assert.deepEqual(heard.sort(), [['presence', { name: 'Bob',
			    in: 'room' }], ['private', { name: 'Bob' }]]);
		} finally {
			disconnectAll([alice, bob]);
		}
	});
});

describe('client_events = forward and live', () => {
	it('forward: journaled, in RabbitMQ with source "client", to ' +
	    'envelope subscribers', { timeout: 60000 }, async () => {
		const name = channelName('presence-fwd-');
		const run = runId();
		const alice = pusherFor(s, { user: member('Alice') });
		const bob = pusherFor(s, { user: member('Bob') });
		const envelopes = await connect(s, { query:
		    'protocol=7&client=js&version=8.4.0&format=envelope' });
		try {
			const a = await mustSubscribe(alice, name);
			const b = await mustSubscribe(bob, name);
			await envelopes.mustSubscribe(name, { auth: signPresence(APP,
			    envelopes.socketId, name, member('Dash')) });
			a.trigger('client-move', { run, x: 3 });
			const [e] = await received(b, 1);
			assert.deepEqual(e.data, { run, x: 3 });
			const taken = await drainUntil(s.names.queue, (m) =>
			    m.body && m.body.data && m.body.data.run === run);
			const mine = taken.filter((m) => m.body && m.body.data &&
			    m.body.data.run === run);
			assert.equal(mine.length, 1, 'forwarded more than once');
			const [m] = mine;
			assert.equal(m.body.source, 'client', m.raw);
			assert.equal(m.body.event, 'client-move', m.raw);
			assert.equal(m.body.channel, name, m.raw);
			assert.equal(m.body.app, APP.id, m.raw);
			assert.deepEqual(m.body.data, { run, x: 3 });
			// The envelope subscriber gets the same envelope.
			const env = await envelopes.next({ event: 'client-move' });
			assert.equal(env.envelope, true, env.raw);
			assert.equal(env.payload.id, m.body.id, env.raw);
			assert.equal(env.payload.source, 'client', env.raw);
		} finally {
			disconnectAll([alice, bob]);
			await closeAll([envelopes]);
		}
	});

	it('live: delivered, never journaled nor forwarded', {
	    timeout: 60000 }, async () => {
		const name = channelName('private-live-');
		const run = runId();
		const alice = pusherFor(s, { app: LIVE });
		const bob = pusherFor(s, { app: LIVE });
		try {
			const a = await mustSubscribe(alice, name);
			const b = await mustSubscribe(bob, name);
			a.trigger('client-move', { run, x: 4 });
			const [e] = await received(b, 1);
			assert.deepEqual(e.data, { run, x: 4 });
			// An event posted after it is forwarded; the client
			// event never shows before or with it.
			const r = await post(s.url, [{ event: 'marker', channel:
			    'events', data: { run, marker: true } }],
			    { key: LIVE.key });
			assert.equal(r.status, 202, r.text);
			const taken = await drainUntil(s.names.queue, (m) =>
			    m.body && m.body.data && m.body.data.marker &&
			    m.body.data.run === run);
			assert.deepEqual(taken.filter((m) => m.body &&
			    m.body.event === 'client-move' && m.body.data &&
			    m.body.data.run === run).map((m) => m.raw), []);
		} finally {
			disconnectAll([alice, bob]);
		}
	});
});

