// 31-ws-encrypted: private-encrypted- channels with unmodified pusher-js 8
// (its Node build carries the encryption) and the pusher server SDK
// holding the encryption master key: the SDK's authorization (with the
// channel's shared_secret) subscribes, a forged one does not; a payload the
// SDK encrypted is relayed as published and pusher-js decrypts it, from a
// private-encrypted-cache- channel's cache too. (Client events on these
// channels are refused: see 27-ws-client-events.)

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { disconnectAll, mustSubscribe, pusherFor, received, subscribe } from
    '../lib/pusher.mjs';
import { post } from '../lib/sluiced.mjs';
import { closeAll, connect, sdkFor } from '../lib/ws.mjs';

const APP = { id: 'secretive', key: 'secretive-key-0001',
    secret: 'secretive-secret-0123456789',
    publish_channels: ['private-encrypted-*'] };
const MASTER_KEY = randomBytes(32).toString('base64');
const SDK = sdkFor(APP, { encryptionMasterKeyBase64: MASTER_KEY });

const { s } = useSluiced({ name: 'ws-encrypted', waitWs: true,
    apps: [APP] });

let serial = 0;

function channelName(prefix) {
	serial++;
	return `${prefix}${process.pid}-${serial}`;
}

/*
 * The data the SDK's trigger() would send for event on an encrypted
 * channel: {"nonce", "ciphertext"} as a JSON string, encrypted with the
 * channel's shared secret. The SDK's request is kept, not sent: the
 * Pusher HTTP API is not what is tested here.
 */
async function encrypted(channel, data) {
	let body = null;
	const sdk = Object.create(SDK);
	sdk.post = (request) => {
		body = request.body;
		return Promise.resolve({ status: 200 });
	};
	await sdk.trigger(channel, 'kept', data);
	assert.ok(body && typeof body.data === 'string', 'the SDK sent ' +
	    'no encrypted data');
	return body.data;
}

// Posts events; throws unless all were accepted.
async function postOk(events) {
	const r = await post(s.url, events, { key: APP.key });
	assert.equal(r.status, 202, r.text);
	return r.json.ids;
}

describe('private-encrypted- channels with pusher-js', () => {
	it('the SDK\'s authorization subscribes; a forged one does not', {
	    timeout: 60000 }, async () => {
		const name = channelName('private-encrypted-vault-');
		const p = pusherFor(s, { sdk: SDK });
		const forger = new (SDK.constructor)({ appId: '1', key: APP.key,
		    secret: 'not-the-secret-0123456789', cluster: 'x',
		    encryptionMasterKeyBase64: MASTER_KEY });
		const forged = pusherFor(s, { sdk: forger });
		try {
			const ch = await mustSubscribe(p, name);
			assert.equal(ch.subscribed, true);
			const r = await subscribe(forged, name);
			assert.equal(r.ok, false, 'the forged auth was accepted');
			assert.equal(r.error.type, 'AuthError',
			    JSON.stringify(r.error));
			assert.equal(r.error.status, 401, JSON.stringify(r.error));
		} finally {
			disconnectAll([p, forged]);
		}
	});

	it('an event the SDK encrypted is relayed as is and decrypted', {
	    timeout: 60000 }, async () => {
		const name = channelName('private-encrypted-vault-');
		const p = pusherFor(s, { sdk: SDK });
		const raw = await connect(s, { key: APP.key });
		try {
			const ch = await mustSubscribe(p, name);
			await raw.mustSubscribe(name, { auth: SDK.authorizeChannel(
			    raw.socketId, name).auth });
			const data = await encrypted(name, { message: 'hello' });
			await postOk([{ event: 'secret', channel: name, data }]);
			const [e] = await received(ch, 1);
			assert.equal(e.event, 'secret');
			assert.deepEqual(e.data, { message: 'hello' });
			// The server relays the payload untouched.
			const m = await raw.next({ event: 'secret' });
			assert.equal(m.data, data, m.raw);
		} finally {
			disconnectAll([p]);
			await closeAll([raw]);
		}
	});

	it('a private-encrypted-cache- channel keeps the encrypted event', {
	    timeout: 60000 }, async () => {
		const name = channelName('private-encrypted-cache-vault-');
		const p = pusherFor(s, { sdk: SDK });
		try {
			const data = await encrypted(name, { level: 3 });
			await postOk([{ event: 'state', channel: name, data }]);
			const ch = await mustSubscribe(p, name);
			const [e] = await received(ch, 1);
			assert.equal(e.event, 'state');
			assert.deepEqual(e.data, { level: 3 });
		} finally {
			disconnectAll([p]);
		}
	});
});
