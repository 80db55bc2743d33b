// 40-http-auth: GET /v1/auth, sluiced's signer for the channels an app
// opened to anyone (public_channels). Its auth is the one the pusher server
// SDK makes with the app's secret (authorizeChannel, with presenceData for
// presence), and a subscribe with it succeeds; only for the socket it was
// asked for. Channels the app did not list, a user channel, a bad socket
// id, missing or malformed channel_data, an unknown key or a refused
// Origin, and a disabled app are refused with their code.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, get } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor } from '../lib/ws.mjs';

const APP = { ...TEST_APP, public_channels: ['events', 'game-*',
    'presence-open-*', 'private-open-*'], presence_max_member_bytes: '64' };
const DISABLED = {
	id: 'off',
	key: 'off-key-0001',
	secret: 'off-secret-0123456789',
	origins: ['*'],
	default_channel: 'events',
	public_channels: ['presence-open-*'],
	enabled: 'no',
};

const { s } = useSluiced({ name: 'http-auth', waitWs: true,
    apps: [APP, DISABLED] });

// GET /v1/auth with the query args (and the key of app unless args say),
// and headers.
function auth(args, headers = {}, app = APP) {
	const q = new URLSearchParams({ key: app.key, ...args });
	for (const [k, v] of Object.entries(args)) {
		if (v === undefined)
			q.delete(k);
	}
	return get(`${s.baseUrl}/v1/auth?${q}`, { headers });
}

// Subscribes c to channel with what /v1/auth answered; the reply.
async function subscribe(c, channel, answer) {
	await c.send({ event: 'pusher:subscribe', data: { channel,
	    auth: answer.auth, channel_data: answer.channel_data } });
	return c.next((m) => m.channel === channel &&
	    /subscription_(succeeded|error)$/.test(m.event));
}

// Checks r is the error code with status.
function assertError(r, status, code) {
	assert.equal(r.status, status, r.text);
	assert.equal(r.json.error, code, r.text);
	assert.equal(typeof r.json.message, 'string');
}

describe('GET /v1/auth', () => {
	it('signs a presence channel of public_channels as the pusher SDK ' +
	    'does; the subscribe succeeds', async () => {
		const a = await connect(s);
		const b = await connect(s);
		try {
			const channel = 'presence-open-1';
			const member = { user_id: 'ann', user_info: { name: 'Ann' } };
			const channelData = JSON.stringify(member);
			const r = await auth({ socket_id: a.socketId,
			    channel_name: channel, channel_data: channelData });
			assert.equal(r.status, 200, r.text);
			assert.match(r.headers['content-type'], /^application\/json/);
			assert.deepEqual(r.json, sdkFor(APP).authorizeChannel(
			    a.socketId, channel, member));
			assert.equal(r.json.channel_data, channelData);
			const ok = await subscribe(a, channel, r.json);
			assert.equal(ok.event, 'pusher_internal:subscription_succeeded',
			    ok.raw);
			assert.deepEqual(ok.payload.presence.hash, { ann: { name:
			    'Ann' } });

			// The auth of a's socket is refused on b's.
			const no = await subscribe(b, channel, r.json);
			assert.equal(no.event, 'pusher:subscription_error', no.raw);
			assert.equal(no.data.type, 'AuthError');
		} finally {
			await closeAll([a, b]);
		}
	});

	it('signs a private channel of public_channels', async () => {
		const c = await connect(s);
		try {
			const r = await auth({ socket_id: c.socketId,
			    channel_name: 'private-open-x' });
			assert.equal(r.status, 200, r.text);
			assert.deepEqual(r.json, sdkFor(APP).authorizeChannel(
			    c.socketId, 'private-open-x'));
			const ok = await subscribe(c, 'private-open-x', r.json);
			assert.equal(ok.event, 'pusher_internal:subscription_succeeded',
			    ok.raw);
		} finally {
			await closeAll([c]);
		}
	});

	it('refuses channels the app did not open, and bad arguments',
	    async () => {
		const id = '123.456';
		const data = JSON.stringify({ user_id: 'u' });
		for (const [args, status, code] of [
			[{ channel_name: 'presence-closed' }, 403,
			    'channel_not_public'],
			[{ channel_name: 'private-room' }, 403, 'channel_not_public'],
			[{ channel_name: 'private-encrypted-open-1' }, 403,
			    'channel_not_public'],
			[{ channel_name: 'presence-open-1', channel_data: undefined },
			    400, 'invalid_channel_data'],
			[{ channel_name: 'presence-open-1', channel_data: '[1]' },
			    400, 'invalid_channel_data'],
			[{ channel_name: 'presence-open-1', channel_data: '{"a":' },
			    400, 'invalid_channel_data'],
			[{ channel_name: 'presence-open-1', channel_data:
			    JSON.stringify({ user_id: 'u', user_info: 'x'.repeat(400) }) },
			    400, 'invalid_channel_data'],
			[{ channel_name: 'private-open-1', channel_data: data }, 400,
			    'invalid_channel_data'],
			[{ channel_name: 'presence-open-1', socket_id: '123' }, 400,
			    'invalid_socket_id'],
			[{ channel_name: 'presence-open-1', socket_id: '1.2.3' }, 400,
			    'invalid_socket_id'],
			[{ channel_name: 'presence-open-1', socket_id: undefined },
			    400, 'invalid_socket_id'],
			[{ channel_name: 'presence open' }, 400, 'invalid_channel'],
			[{ channel_name: undefined }, 400, 'invalid_channel'],
			[{ channel_name: 'presence-open-1', key: 'nobody-key-0001' },
			    401, 'unknown_key'],
			[{ channel_name: 'presence-open-1', key: undefined }, 401,
			    'missing_key'],
		]) {
			const r = await auth({ socket_id: id, channel_data: data,
			    ...args });
			assertError(r, status, code);
		}
	});

	it('checks the Origin like /v1/events, and a disabled app', async () => {
		const args = { socket_id: '1.2', channel_name: 'presence-open-1',
		    channel_data: JSON.stringify({ user_id: 1 }) };
		const ok = await auth(args, { Origin: 'https://allowed.example' });
		assert.equal(ok.status, 200, ok.text);
		assert.equal(ok.headers['access-control-allow-origin'],
		    'https://allowed.example');
		assertError(await auth(args, { Origin: 'https://evil.example' }),
		    403, 'origin_not_allowed');
		assertError(await auth(args, {}, DISABLED), 403, 'app_disabled');
	});
});
