// 13-ws-channels: subscribing over the raw protocol: public channels (the
// app's public_channels patterns), private channels with auth made by the
// pusher server SDK (and forged ones), presence channels refused without
// their channel_data (the rest is 26-ws-presence), channel
// name rules, max_subscriptions, subscribing twice and unsubscribing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, post } from '../lib/sluiced.mjs';
import { closeAll, connect, signChannel } from '../lib/ws.mjs';

const MAX_SUBSCRIPTIONS = 4;

// The test app, allowed to publish to private channels too.
const APP = { ...TEST_APP, publish_channels: [...TEST_APP.publish_channels,
    'private-*'] };
const OTHER_APP = {
	id: 'other',
	key: 'other-key-0001',
	secret: 'other-secret-0123456789',
	origins: ['*'],
	default_channel: 'events',
	publish_channels: ['events', 'private-*'],
	public_channels: ['events'],
};

const { s } = useSluiced({ name: 'ws-chan', waitWs: true,
    apps: [APP, OTHER_APP],
    websocket: { max_subscriptions: MAX_SUBSCRIPTIONS } });

// Posts one event to channel (of app, default the test app), its id and
// app in its data (which subscribers get); returns its id.
async function postTo(channel, event = 'ev', app = APP) {
	const id = `chan-${randomBytes(6).toString('hex')}`;
	const r = await post(s.url, { id, event, channel,
	    data: { id, app: app.id } }, { key: app.key });
	assert.equal(r.status, 202, r.text);
	return id;
}

// Checks r is subscription_succeeded for channel.
function assertSucceeded(r, channel) {
	assert.equal(r.event, 'pusher_internal:subscription_succeeded',
	    `${channel}: ${r.raw}`);
	assert.equal(r.channel, channel);
	assert.equal(typeof r.data, 'string', `data must be a JSON string: ` +
	    r.raw);
	assert.deepEqual(r.payload, {});
}

// Checks r is subscription_error for channel with type and status.
function assertRefused(r, channel, type, status) {
	assert.equal(r.event, 'pusher:subscription_error',
	    `${channel.slice(0, 40)}: ${r.raw.slice(0, 300)}`);
	assert.equal(r.channel, channel);
	assert.equal(typeof r.data, 'object', r.raw);
	assert.equal(r.data.type, type, r.raw.slice(0, 300));
	assert.equal(r.data.status, status, r.raw.slice(0, 300));
	assert.equal(typeof r.data.error, 'string');
	assert.ok(r.data.error.length > 0);
}

// Waits for the delivery of the event id on channel to c.
function delivery(c, channel, id) {
	return c.next((m) => m.channel === channel && m.payload &&
	    m.payload.id === id, { timeout: 15000 });
}

describe('public channels', () => {
	it('channels matching public_channels need no auth', async () => {
		const c = await connect(s);
		try {
			for (const ch of ['events', 'game-1', 'game-x.y;z'])
				assertSucceeded(await c.subscribe(ch), ch);
			const id = await postTo('game-1', 'level_up');
			const m = await delivery(c, 'game-1', id);
			assert.equal(m.event, 'level_up');
			assert.equal(m.channel, 'game-1');
			assert.equal(typeof m.data, 'string', m.raw);
			assert.deepEqual(m.payload, { id, app: APP.id });
		} finally {
			await c.close();
		}
	});

	it('a channel matching no public pattern: AuthError 403', async () => {
		const c = await connect(s);
		try {
			// chat.* may be published to, but not read freely.
			for (const ch of ['chat.room', 'secret', 'game', 'Events'])
				assertRefused(await c.subscribe(ch), ch, 'AuthError',
				    403);
		} finally {
			await c.close();
		}
	});

	it('an empty auth, as pusher-js sends for public channels, is no ' +
	    'auth: 403', async () => {
		const c = await connect(s);
		try {
			assertRefused(await c.subscribe('chat.room', { auth: '' }),
			    'chat.room', 'AuthError', 403);
			assertSucceeded(await c.subscribe('events', { auth: '' }),
			    'events');
		} finally {
			await c.close();
		}
	});

	it('a signed auth opens a channel that is not public', async () => {
		const c = await connect(s);
		try {
			const auth = signChannel(APP, c.socketId, 'chat.room');
			assertSucceeded(await c.subscribe('chat.room', { auth }),
			    'chat.room');
			const forged = signChannel(APP, c.socketId, 'chat.other');
			assertRefused(await c.subscribe('chat.lobby',
			    { auth: forged }), 'chat.lobby', 'AuthError', 401);
		} finally {
			await c.close();
		}
	});

	it('public_channels of one app do not open another app\'s channels',
	    async () => {
		const c = await connect(s, { key: OTHER_APP.key });
		try {
			assertRefused(await c.subscribe('game-1'), 'game-1',
			    'AuthError', 403);
			assertSucceeded(await c.subscribe('events'), 'events');
		} finally {
			await c.close();
		}
	});
});

describe('private channels', () => {
	it('the SDK\'s authorizeChannel auth is accepted', async () => {
		const c = await connect(s);
		try {
			const ch = 'private-dash';
			const auth = signChannel(APP, c.socketId, ch);
			assert.match(auth, new RegExp(`^${APP.key}:[0-9a-f]{64}$`));
			assertSucceeded(await c.subscribe(ch, { auth }), ch);
			const id = await postTo(ch, 'secret_thing');
			const m = await delivery(c, ch, id);
			assert.equal(m.event, 'secret_thing');
		} finally {
			await c.close();
		}
	});

	it('missing or forged auth: AuthError 401, and nothing delivered',
	    async () => {
		const c = await connect(s);
		const other = await connect(s);
		try {
			const ch = 'private-room-1';
			const good = signChannel(APP, c.socketId, ch);
			const sig = good.split(':')[1];
			const flipped = sig.slice(0, -1) +
			    (sig.endsWith('0') ? '1' : '0');
			const forged = [
				['no auth', undefined],
				['an empty auth', ''],
				['random hex', `${APP.key}:` +
				    randomBytes(32).toString('hex')],
				['one hex digit off', `${APP.key}:${flipped}`],
				['signed for another socket',
				    signChannel(APP, other.socketId, ch)],
				['signed for another channel',
				    signChannel(APP, c.socketId, 'private-room-2')],
				['signed with another app\'s secret',
				    signChannel({ ...OTHER_APP, key: APP.key },
				    c.socketId, ch)],
				['another app\'s key', `${OTHER_APP.key}:${sig}`],
				['no key', sig],
				['a short signature', `${APP.key}:${sig.slice(0,
				    32)}`],
				['not hex', `${APP.key}:${'G'.repeat(64)}`],
			];
			for (const [what, auth] of forged) {
				const r = await c.subscribe(ch, { auth });
				assert.equal(r.event, 'pusher:subscription_error',
				    `${what}: ${r.raw}`);
				assertRefused(r, ch, 'AuthError', 401);
			}
			// None of those subscribed: an event on the channel
			// does not come, the one after it on a channel held
			// does.
			assertSucceeded(await c.subscribe('events'), 'events');
			await postTo(ch, 'hidden');
			const id = await postTo('events', 'marker');
			await delivery(c, 'events', id);
			assert.deepEqual(c.drainInbox({ channel: ch }), []);
		} finally {
			await closeAll([c, other]);
		}
	});

	it('a private channel of the other app needs that app\'s secret',
	    async () => {
		const c = await connect(s, { key: OTHER_APP.key });
		try {
			const ch = 'private-x';
			assertRefused(await c.subscribe(ch, { auth:
			    signChannel(APP, c.socketId, ch) }), ch,
			    'AuthError', 401);
			assertSucceeded(await c.subscribe(ch, { auth:
			    signChannel(OTHER_APP, c.socketId, ch) }), ch);
		} finally {
			await c.close();
		}
	});
});

describe('channel names', () => {
	const n164 = `game-${'a'.repeat(159)}`;
	const p164 = `private-${'b'.repeat(156)}`;

	it('164 characters and every allowed character are fine',
	    async () => {
		assert.equal(n164.length, 164);
		assert.equal(p164.length, 164);
		const c = await connect(s);
		try {
			assertSucceeded(await c.subscribe(n164), n164);
			assertSucceeded(await c.subscribe(p164, { auth:
			    signChannel(APP, c.socketId, p164) }), p164);
			const odd = 'game-AZaz09_-=@,.;';
			assertSucceeded(await c.subscribe(odd), odd);
			const id = await postTo(n164, 'long');
			await delivery(c, n164, id);
		} finally {
			await c.close();
		}
	});

	const invalid = [
		['165 characters', `game-${'a'.repeat(160)}`],
		['165 characters, private', `private-${'b'.repeat(157)}`],
		['a space', 'game-a b'],
		['a slash', 'game-a/b'],
		['a colon', 'game-a:b'],
		['a hash', 'game-a#b'],
		['a star', 'game-*'],
		['a non-ASCII letter', 'game-\u00e4'],
		['a quote', 'game-"x'],
		['a control character', 'game-\u0001'],
	];
	for (const [what, ch] of invalid) {
		it(`${what}: InvalidChannel 400`, async () => {
			const c = await connect(s);
			try {
				let auth;
				if (ch.startsWith('private-'))
					auth = signChannel(APP, c.socketId, ch);
				assertRefused(await c.subscribe(ch, { auth }), ch,
				    'InvalidChannel', 400);
				// Still open.
				await c.ping();
			} finally {
				await c.close();
			}
		});
	}

	it('presence- channels: AuthError 401 without auth, '
	    + 'InvalidChannelData 400 without channel_data', async () => {
		const c = await connect(s);
		try {
			for (const ch of ['presence-room', 'presence-game-1']) {
				assertRefused(await c.subscribe(ch), ch,
				    'AuthError', 401);
				// A private channel's auth, and no user's data
				// for it to sign.
				const auth = signChannel(APP, c.socketId, ch);
				assertRefused(await c.subscribe(ch, { auth }), ch,
				    'InvalidChannelData', 400);
			}
		} finally {
			await c.close();
		}
	});
});

describe('subscriptions', () => {
	it(`max_subscriptions (${MAX_SUBSCRIPTIONS}): LimitReached 429`,
	    async () => {
		const c = await connect(s);
		try {
			// Refused subscriptions do not count.
			assertRefused(await c.subscribe('secret'), 'secret',
			    'AuthError', 403);
			const held = [];
			for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) {
				const ch = `game-lim-${i}`;
				assertSucceeded(await c.subscribe(ch), ch);
				held.push(ch);
			}
			assertRefused(await c.subscribe('game-lim-x'),
			    'game-lim-x', 'LimitReached', 429);
			const pch = 'private-lim';
			assertRefused(await c.subscribe(pch, { auth:
			    signChannel(APP, c.socketId, pch) }), pch,
			    'LimitReached', 429);
			// One held already is not a new one.
			assertSucceeded(await c.subscribe(held[0]), held[0]);
			// Unsubscribing frees a place.
			await c.unsubscribe(held[1]);
			assertSucceeded(await c.subscribe('game-lim-x'),
			    'game-lim-x');
			assertRefused(await c.subscribe('game-lim-y'),
			    'game-lim-y', 'LimitReached', 429);
			// The limit is per connection.
			const d = await connect(s);
			for (let i = 0; i < MAX_SUBSCRIPTIONS; i++)
				assertSucceeded(await d.subscribe(held[i]), held[i]);
			await d.close();
		} finally {
			await c.close();
		}
	});

	it('subscribing twice answers twice and delivers once', async () => {
		const c = await connect(s);
		try {
			assertSucceeded(await c.subscribe('game-twice'),
			    'game-twice');
			assertSucceeded(await c.subscribe('game-twice'),
			    'game-twice');
			const id = await postTo('game-twice', 'once');
			const marker = await postTo('game-twice', 'marker');
			await delivery(c, 'game-twice', marker);
			const got = c.drainInbox({ channel: 'game-twice' });
			assert.deepEqual(got.map((m) => m.payload.id), [id],
			    'the event came other than once before the next');
		} finally {
			await c.close();
		}
	});

	it('unsubscribe: no reply, and deliveries stop', async () => {
		const c = await connect(s);
		const d = await connect(s);
		try {
			assertSucceeded(await c.subscribe('game-u1'), 'game-u1');
			assertSucceeded(await c.subscribe('game-u2'), 'game-u2');
			assertSucceeded(await d.subscribe('game-u1'), 'game-u1');
			const first = await postTo('game-u1', 'before');
			await delivery(c, 'game-u1', first);
			await c.unsubscribe('game-u1');
			await c.ping();
			const gone = await postTo('game-u1', 'after');
			const marker = await postTo('game-u2', 'marker');
			await delivery(c, 'game-u2', marker);
			// The other subscriber still gets it.
			await delivery(d, 'game-u1', gone);
			assert.deepEqual(c.drainInbox({ channel: 'game-u1' }), []);
			assert.deepEqual(c.drainInbox((m) =>
			    m.event !== 'pusher:pong'), [], 'unsubscribe got ' +
			    'a reply');
			// Unsubscribing from a channel not held is no error.
			await c.unsubscribe('game-never');
			await c.ping();
			assert.deepEqual(c.drainInbox('pusher:error'), []);
		} finally {
			await closeAll([c, d]);
		}
	});

	it('events go only to subscribers of the same app', async () => {
		const a = await connect(s);
		const b = await connect(s, { key: OTHER_APP.key });
		try {
			assertSucceeded(await a.subscribe('events'), 'events');
			assertSucceeded(await b.subscribe('events'), 'events');
			const ch = 'private-shared';
			assertSucceeded(await a.subscribe(ch, { auth:
			    signChannel(APP, a.socketId, ch) }), ch);
			assertSucceeded(await b.subscribe(ch, { auth:
			    signChannel(OTHER_APP, b.socketId, ch) }), ch);
			const ofA = await postTo('events', 'of_a');
			const ofA2 = await postTo(ch, 'of_a');
			const ofB = await postTo('events', 'of_b', OTHER_APP);
			const ofB2 = await postTo(ch, 'of_b', OTHER_APP);
			await delivery(a, 'events', ofA);
			await delivery(a, ch, ofA2);
			await delivery(b, 'events', ofB);
			await delivery(b, ch, ofB2);
			// The other app's came after: had they crossed, they
			// would be in the inbox by now.
			const ofA3 = await postTo('events', 'of_a');
			const ofB3 = await postTo('events', 'of_b', OTHER_APP);
			await delivery(a, 'events', ofA3);
			await delivery(b, 'events', ofB3);
			assert.deepEqual(a.drainInbox((m) => m.payload &&
			    m.payload.app === OTHER_APP.id), []);
			assert.deepEqual(b.drainInbox((m) => m.payload &&
			    m.payload.app === APP.id), []);
		} finally {
			await closeAll([a, b]);
		}
	});
});
