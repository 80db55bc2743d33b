#!/usr/bin/env node
// tests/unit/data/make-auth-vectors.mjs: writes pusher-auth-vectors.txt, the
// private-channel auth signatures the unit tests check sluiced against, made
// by the pusher npm server SDK (authorizeChannel), the reference every
// Pusher backend uses.
//
// One vector a line, four fields separated by tabs:
//   secret  socket_id  channel  auth
// where auth is "key:hex(HMAC-SHA256(secret, socket_id:channel))"; the key
// is the part of auth before the first ':'. Secrets hold no tab or newline.
// The inputs are fixed (a seeded generator for the random ones), so running
// this again gives the same file.
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

function randomInt(lo, hi) {
	return lo + Math.floor(random() * (hi - lo + 1));
}

function randomString(chars, n) {
	let s = '';
	for (let i = 0; i < n; i++)
		s += chars[randomInt(0, chars.length - 1)];
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
