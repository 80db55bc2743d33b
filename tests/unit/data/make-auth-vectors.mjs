#!/usr/bin/env node
// tests/unit/data/make-auth-vectors.mjs: writes the auth signatures the unit
// tests check sluiced against, made by the pusher npm server SDK, the
// reference every Pusher backend uses:
//
// pusher-auth-vectors.txt: private channels (authorizeChannel), one vector
// a line, four fields separated by tabs:
//   secret  socket_id  channel  auth
// where auth is "key:hex(HMAC-SHA256(secret, socket_id:channel))".
//
// pusher-presence-vectors.txt: presence channels (authorizeChannel with
// presenceData) and user sign-in (authenticateUser), six fields:
//   presence  secret  socket_id  channel  channel_data  auth
//   user      secret  socket_id  (empty)  user_data     auth
// where a presence auth signs "socket_id:channel:channel_data" and a
// sign-in's "socket_id::user::user_data"; channel_data and user_data are
// the JSON text the SDK returns beside auth (JSON.stringify's, which
// escapes tabs and newlines, so neither holds one raw).
//
// pusher-api-vectors.txt: requests to the HTTP API (Pusher's server API)
// signed by the SDK (its createSignedQueryString, what every call of the
// SDK sends), one a line, six fields:
//   secret  key  method  path  body  query
// where body is the JSON text sent ("" for none) and query the whole query
// string the SDK sends, auth_signature last; its auth_timestamp is fixed.
//
// In the first two, the key is the part of auth before the first ':'. Secrets hold
// no tab or newline. The inputs are fixed (seeded generators for the
// random ones), so running this again gives the same files.
//
// Run from anywhere, once `npm ci` was run in tests/:
//   node tests/unit/data/make-auth-vectors.mjs

import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const PusherServer = require('pusher');

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(here, 'pusher-auth-vectors.txt');
const PRESENCE_OUT = path.join(here, 'pusher-presence-vectors.txt');
const API_OUT = path.join(here, 'pusher-api-vectors.txt');
const CHANNEL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' +
    '0123456789_-=@,.;';
const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' +
    '0123456789_-';
// Printable ASCII but tab: what a secret in sluiced.conf may hold.
const SECRET_CHARS = Array.from({ length: 95 }, (_, i) =>
    String.fromCharCode(32 + i)).join('');

// A small seeded generator (mulberry32): the same numbers every run.
function generator(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
const random = generator(20261122);

function randomInt(lo, hi, from = random) {
	return lo + Math.floor(from() * (hi - lo + 1));
}

// n characters of chars (a string, or an array of characters).
function randomString(chars, n, from = random) {
	let s = '';
	for (let i = 0; i < n; i++)
		s += chars[randomInt(0, chars.length - 1, from)];
	return s;
}

// The fixed cases: [key, secret, socket_id, channel].
const fixed = [
	['web-key-0001', 'web-secret-0123456789', '123.456', 'private-dash'],
	['web-key-0001', 'web-secret-0123456789', '123.457', 'private-dash'],
	['web-key-0001', 'web-secret-0123456789', '123.456', 'private-dasH'],
	['web-key-0001', 'web-secret-0123456789', '1.1', 'private-a'],
	['web-key-0001', 'web-secret-0123456789', '0.0', 'private-0'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-x'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-a=b'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-user@example.com'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-a,b,c'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-a.b.c'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-a;b;c'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-=@,.;_-'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-;;;;'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-=='],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'events'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'game-1'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'private-encryptedX'],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'a'],
	['K_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY',
	    'key-of-64-chars', '9.9', 'private-k'],
	['web-key-0001', 'web-secret-0123456789', '1234567890.9876543210',
	    'private-dash'],
	['web-key-0001', 'web-secret-0123456789',
	    '18446744073709551615.18446744073709551615', 'private-dash'],
	// 164 characters: the longest channel name.
	['web-key-0001', 'web-secret-0123456789', '7.8',
	    `private-${'x'.repeat(156)}`],
	['web-key-0001', 'web-secret-0123456789', '7.8',
	    `private-${'=@,.;'.repeat(31)}a`],
	['web-key-0001', 'web-secret-0123456789', '7.8', 'x'.repeat(164)],
	// Secrets around the HMAC-SHA256 block size (64 bytes): a longer
	// key is hashed first.
	['blk-key-0001', 's'.repeat(63), '5.5', 'private-block'],
	['blk-key-0001', 's'.repeat(64), '5.5', 'private-block'],
	['blk-key-0001', 's'.repeat(65), '5.5', 'private-block'],
	['blk-key-0001', 's'.repeat(128), '5.5', 'private-block'],
	['blk-key-0001', 'S'.repeat(300), '5.5', 'private-block'],
	['blk-key-0001', `${'0123456789'.repeat(102)}abcd`, '5.5',
	    'private-block'],
	// Characters a secret may hold: spaces, = ; # : and quotes, UTF-8.
	['chr-key-0001', 'a secret with spaces in it', '3.14', 'private-c'],
	['chr-key-0001', 'secret=with;odd#chars:"\'\\', '3.14', 'private-c'],
	['chr-key-0001', ' leading and trailing ', '3.14', 'private-c'],
	['chr-key-0001', 'caf\u00e9-cr\u00e8me-br\u00fbl\u00e9e-\u2603',
	    '3.14', 'private-c'],
];

const vectors = fixed.map(([key, secret, socketId, channel]) =>
    ({ key, secret, socketId, channel }));

// Random ones: secrets of 16 to 300 characters, channels of 1 to 164.
for (let i = 0; i < 60; i++) {
	const key = randomString(KEY_CHARS, randomInt(8, 64));
	const secret = randomString(SECRET_CHARS, randomInt(16, 300));
	const socketId = `${randomInt(0, 2 ** 31)}.${randomInt(0, 2 ** 31)}`;
	const prefix = i % 3 === 0 ? '' : 'private-';
	const channel = prefix + randomString(CHANNEL_CHARS,
	    randomInt(1, 164 - prefix.length));
	vectors.push({ key, secret, socketId, channel });
}

const lines = [];
const seen = new Set();
for (const v of vectors) {
	if (/[\t\n\r]/.test(v.secret))
		throw new Error('a secret holds a tab or newline');
	if (v.channel.length > 164 || !/^[A-Za-z0-9_\-=@,.;]+$/.test(
	    v.channel))
		throw new Error(`not a valid channel name: ${v.channel}`);
	const sdk = new PusherServer({ appId: '1', key: v.key,
	    secret: v.secret, cluster: 'x' });
	const { auth } = sdk.authorizeChannel(v.socketId, v.channel);
	// The SDK must agree with the definition, or this file is wrong.
	const sig = createHmac('sha256', Buffer.from(v.secret, 'utf8')).
	    update(`${v.socketId}:${v.channel}`).digest('hex');
	if (auth !== `${v.key}:${sig}`)
		throw new Error(`the SDK gave ${auth} for ${JSON.stringify(v)}`);
	const line = [v.secret, v.socketId, v.channel, auth].join('\t');
	if (seen.has(line))
		continue;
	seen.add(line);
	lines.push(line);
}
fs.writeFileSync(OUT, lines.join('\n') + '\n');
process.stdout.write(`${lines.length} vectors written to ${OUT}\n`);

// Presence channels and user sign-in. A generator of their own, so that
// the private vectors above stay as they were.
const presenceRandom = generator(20261208);
// What user_info may hold: ASCII, Latin-1, combining marks, CJK, emoji
// (astral, so a surrogate pair in JavaScript), quotes, backslashes and
// control characters (which JSON.stringify escapes).
const INFO_CHARS = [
	...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ',
	...'\u00e9\u00fc\u00df\u00f8\u0301\u65e5\u672c\u8a9e\u2603\u20ac',
	'\u{1f600}', '\u{1f3ae}', '\u{1d11e}', '"', '\\', '/', '\n', '\t',
	'\u0001', '\u007f', '\u2028'];

function presenceString(n) {
	return randomString(INFO_CHARS, n, presenceRandom);
}

// A user_id as an app's server may give one: a string or a number.
function presenceUserId() {
	switch (randomInt(0, 3, presenceRandom)) {
	case 0:
		return randomInt(0, 2 ** 31, presenceRandom);
	case 1:
		return -randomInt(1, 1000, presenceRandom);
	case 2:
		return presenceString(randomInt(1, 20, presenceRandom));
	default:
		return randomString(KEY_CHARS, randomInt(1, 128,
		    presenceRandom), presenceRandom);
	}
}

// The fixed presence cases: [key, secret, socket_id, channel, data].
const presenceFixed = [
	['web-key-0001', 'web-secret-0123456789', '123.456', 'presence-room',
	    { user_id: 'alice', user_info: { name: 'Alice' } }],
	['web-key-0001', 'web-secret-0123456789', '123.457', 'presence-room',
	    { user_id: 'alice', user_info: { name: 'Alice' } }],
	['web-key-0001', 'web-secret-0123456789', '123.456', 'presence-roon',
	    { user_id: 'alice', user_info: { name: 'Alice' } }],
	['web-key-0001', 'web-secret-0123456789', '123.456', 'presence-room',
	    { user_id: 'alicf', user_info: { name: 'Alice' } }],
	// user_info absent, empty, null, a string, a number, an array.
	['web-key-0001', 'web-secret-0123456789', '1.1', 'presence-a',
	    { user_id: 'u1' }],
	['web-key-0001', 'web-secret-0123456789', '1.1', 'presence-a',
	    { user_id: 'u1', user_info: {} }],
	['web-key-0001', 'web-secret-0123456789', '1.1', 'presence-a',
	    { user_id: 'u1', user_info: null }],
	['web-key-0001', 'web-secret-0123456789', '1.1', 'presence-a',
	    { user_id: 'u1', user_info: 'just a string' }],
	['web-key-0001', 'web-secret-0123456789', '1.1', 'presence-a',
	    { user_id: 'u1', user_info: 42 }],
	['web-key-0001', 'web-secret-0123456789', '1.1', 'presence-a',
	    { user_id: 'u1', user_info: [1, 'two', { three: 3 }] }],
	// user_id as a number: integers, zero, negative, large, fractional.
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: 1, user_info: { name: 'one' } }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: '1', user_info: { name: 'one' } }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: 0 }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: -17 }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: 2 ** 53 - 1 }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: 1e21 }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_id: 1.5 }],
	// Members in the other order: the signature covers the text as sent.
	['app-key-0002', 'sixteen-chars-ok', '42.42', 'presence-n',
	    { user_info: { name: 'one' }, user_id: 1 }],
	// Unicode in user_id and user_info; characters JSON escapes.
	['chr-key-0001', 'caf\u00e9-cr\u00e8me-br\u00fbl\u00e9e-\u2603', '3.14',
	    'presence-cafe',
	    { user_id: 'Zo\u00eb', user_info: { name: 'Zo\u00eb \u{1f600}',
	    city: 'Z\u00fcrich', word: '\u65e5\u672c\u8a9e' } }],
	['chr-key-0001', 'a secret with spaces in it', '3.14', 'presence-c',
	    { user_id: '\u{1f3ae}', user_info: { quote: 'say "hi"\\',
	    lines: 'a\nb\tc\r', control: '\u0000\u0001\u001f\u007f',
	    separators: '\u2028\u2029', lone: '\ud800' } }],
	['chr-key-0001', 'secret=with;odd#chars:"\'\\', '3.14', 'presence-c',
	    { user_id: 'e\u0301', user_info: { nfd: 'e\u0301', nfc: '\u00e9' } }],
	// Long: a 128-character user_id, about 1 KB and 10 KB of user_info,
	// the longest channel name, long socket ids.
	['web-key-0001', 'web-secret-0123456789', '7.8', 'presence-long',
	    { user_id: 'u'.repeat(128), user_info: {} }],
	['web-key-0001', 'web-secret-0123456789', '7.8', 'presence-long',
	    { user_id: 'kb', user_info: { bio: 'x'.repeat(1000) } }],
	['web-key-0001', 'web-secret-0123456789', '7.8', 'presence-long',
	    { user_id: 'tenkb', user_info: { bio: '\u00e9'.repeat(5000),
	    tags: Array.from({ length: 100 }, (_, i) => `tag${i}`) } }],
	['web-key-0001', 'web-secret-0123456789', '7.8',
	    `presence-${'x'.repeat(155)}`, { user_id: 'edge' }],
	['web-key-0001', 'web-secret-0123456789',
	    '18446744073709551615.18446744073709551615', 'presence-room',
	    { user_id: 'alice', user_info: { name: 'Alice' } }],
	['web-key-0001', 'web-secret-0123456789', '7.8', 'presence-=@,.;_-',
	    { user_id: 'punct' }],
	['web-key-0001', 'web-secret-0123456789', '7.8', 'presence-cache-x',
	    { user_id: 'cache' }],
	// Secrets around the HMAC-SHA256 block size.
	['blk-key-0001', 's'.repeat(64), '5.5', 'presence-block',
	    { user_id: 'b' }],
	['blk-key-0001', 's'.repeat(65), '5.5', 'presence-block',
	    { user_id: 'b' }],
];

// The fixed sign-in cases: [key, secret, socket_id, user_data]. The SDK
// wants a string id; the rest of user_data is the app's.
const userFixed = [
	['web-key-0001', 'web-secret-0123456789', '123.456', { id: 'alice' }],
	['web-key-0001', 'web-secret-0123456789', '123.457', { id: 'alice' }],
	['web-key-0001', 'web-secret-0123456789', '123.456', { id: 'alicf' }],
	['web-key-0001', 'web-secret-0123456789', '123.456',
	    { id: 'alice', user_info: { name: 'Alice' },
	    watchlist: ['bob', 'carol'] }],
	['web-key-0001', 'web-secret-0123456789', '123.456',
	    { user_info: { name: 'Alice' }, id: 'alice' }],
	['app-key-0002', 'sixteen-chars-ok', '42.42', { id: '42' }],
	['app-key-0002', 'sixteen-chars-ok', '42.42',
	    { id: '42', user_info: { age: 42, score: -1.25e-7, ok: true,
	    nothing: null } }],
	['chr-key-0001', 'caf\u00e9-cr\u00e8me-br\u00fbl\u00e9e-\u2603', '3.14',
	    { id: 'Zo\u00eb', user_info: { name: 'Zo\u00eb \u{1f600}',
	    word: '\u65e5\u672c\u8a9e' } }],
	['chr-key-0001', 'a secret with spaces in it', '3.14',
	    { id: '\u{1f3ae}', user_info: { quote: 'say "hi"\\',
	    lines: 'a\nb\tc', control: '\u0000\u001f', lone: '\udfff' } }],
	['web-key-0001', 'web-secret-0123456789', '7.8',
	    { id: 'u'.repeat(128) }],
	['web-key-0001', 'web-secret-0123456789', '7.8',
	    { id: 'long', user_info: { bio: 'y'.repeat(10000) } }],
	['web-key-0001', 'web-secret-0123456789',
	    '18446744073709551615.18446744073709551615', { id: 'alice' }],
	['blk-key-0001', 'S'.repeat(300), '5.5', { id: 'b' }],
];

const presenceVectors = presenceFixed.map(([key, secret, socketId, channel,
    data]) => ({ kind: 'presence', key, secret, socketId, channel, data }));
const userVectors = userFixed.map(([key, secret, socketId, data]) =>
    ({ kind: 'user', key, secret, socketId, channel: '', data }));

// Random ones: ids of both types, user_info of 0 to 400 characters.
for (let i = 0; i < 40; i++) {
	const key = randomString(KEY_CHARS, randomInt(8, 64, presenceRandom),
	    presenceRandom);
	const secret = randomString(SECRET_CHARS, randomInt(16, 300,
	    presenceRandom), presenceRandom);
	const socketId = `${randomInt(0, 2 ** 31, presenceRandom)}.` +
	    `${randomInt(0, 2 ** 31, presenceRandom)}`;
	const info = { name: presenceString(randomInt(0, 400,
	    presenceRandom)), n: randomInt(-1000, 1000, presenceRandom) };
	if (i % 2 === 0) {
		const channel = 'presence-' + randomString(CHANNEL_CHARS,
		    randomInt(1, 155, presenceRandom), presenceRandom);
		presenceVectors.push({ kind: 'presence', key, secret,
		    socketId, channel, data: { user_id: presenceUserId(),
		    user_info: info } });
	} else {
		userVectors.push({ kind: 'user', key, secret, socketId,
		    channel: '', data: { id: String(presenceUserId()),
		    user_info: info } });
	}
}

const presenceLines = [];
for (const v of [...presenceVectors, ...userVectors]) {
	if (/[\t\n\r]/.test(v.secret))
		throw new Error('a secret holds a tab or newline');
	const sdk = new PusherServer({ appId: '1', key: v.key,
	    secret: v.secret, cluster: 'x' });
	let auth, text, signed;
	if (v.kind === 'presence') {
		if (v.channel.length > 164 || !/^presence-[A-Za-z0-9_\-=@,.;]+$/.
		    test(v.channel))
			throw new Error(`not a presence channel: ${v.channel}`);
		({ auth, channel_data: text } = sdk.authorizeChannel(
		    v.socketId, v.channel, v.data));
		signed = `${v.socketId}:${v.channel}:${text}`;
	} else {
		({ auth, user_data: text } = sdk.authenticateUser(v.socketId,
		    v.data));
		signed = `${v.socketId}::user::${text}`;
	}
	// The SDK must agree with the definition, or this file is wrong.
	const sig = createHmac('sha256', Buffer.from(v.secret, 'utf8')).
	    update(Buffer.from(signed, 'utf8')).digest('hex');
	if (text !== JSON.stringify(v.data) || auth !== `${v.key}:${sig}`)
		throw new Error(`the SDK gave ${auth} for ${JSON.stringify(v)}`);
	if (/[\t\n\r]/.test(text))
		throw new Error(`raw tab or newline in ${text}`);
	presenceLines.push([v.kind, v.secret, v.socketId, v.channel, text,
	    auth].join('\t'));
}
if (new Set(presenceLines).size !== presenceLines.length)
	throw new Error('the same presence vector twice');
fs.writeFileSync(PRESENCE_OUT, presenceLines.join('\n') + '\n');
process.stdout.write(`${presenceLines.length} vectors written to ` +
    `${PRESENCE_OUT}\n`);

// The HTTP API's signatures, at a fixed time.
const { createSignedQueryString } = require('pusher/lib/requests');
const API_NOW_MS = 1796000000000;	/* 2026-11-29 */
const apiFixed = [
	['web-key-0001', 'web-secret-0123456789', 'POST', '/apps/web/events',
	    { name: 'greet', data: '{"hello":"world"}', channel: 'game-1' }],
	['web-key-0001', 'web-secret-0123456789', 'POST', '/apps/web/events',
	    { name: 'many', data: 'x', channels: ['a', 'b', 'c'],
	    socket_id: '123.456', info: 'subscription_count' }],
	['web-key-0001', 'web-secret-0123456789', 'POST',
	    '/apps/web/batch_events', { batch: [{ channel: 'a', name: 'e',
	    data: '1' }, { channel: 'presence-b', name: 'f', data: '2',
	    info: 'user_count' }] }],
	['web-key-0001', 'web-secret-0123456789', 'POST',
	    '/apps/web/users/alice/terminate_connections', {}],
	['web-key-0001', 'web-secret-0123456789', 'GET', '/apps/web/channels',
	    null, { filter_by_prefix: 'presence-', info: 'user_count' }],
	['web-key-0001', 'web-secret-0123456789', 'GET',
	    '/apps/web/channels/presence-room', null,
	    { info: 'user_count,subscription_count' }],
	['web-key-0001', 'web-secret-0123456789', 'GET',
	    '/apps/web/channels/presence-room/users', null, null],
	['app-key-0002', 'sixteen-chars-ok', 'POST', '/apps/2/events',
	    { name: 'caf\u00e9', data: 'Z\u00fcrich \u{1f600}',
	    channel: '#server-to-user-zoe' }],
	['blk-key-0001', 's'.repeat(65), 'GET', '/apps/blk/channels', null,
	    { zeta: 'last', alpha: 'first', mid: 'dle' }],
	['chr-key-0001', 'secret=with;odd#chars:"\'\\', 'GET',
	    '/apps/chr/channels/cache-x', null, { info: 'cache' }],
];
const apiLines = [];
const realNow = Date.now;
Date.now = () => API_NOW_MS;
try {
	for (const [key, secret, method, apiPath, body, params] of apiFixed) {
		const sdk = new PusherServer({ appId: '1', key, secret,
		    cluster: 'x' });
		const text = body ? JSON.stringify(body) : undefined;
		const query = createSignedQueryString(sdk.config.token,
		    { method, path: apiPath, params: params || undefined,
		    body: text });
		if (/[\t\n]/.test(secret + (text || '') + query))
			throw new Error('a tab or newline in an API vector');
		apiLines.push([secret, key, method, apiPath, text || '', query]
		    .join('\t'));
	}
} finally {
	Date.now = realNow;
}
fs.writeFileSync(API_OUT, apiLines.join('\n') + '\n');
process.stdout.write(`${apiLines.length} vectors written to ${API_OUT}\n`);
