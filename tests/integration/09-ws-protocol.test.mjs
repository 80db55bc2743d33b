// 09-ws-protocol: the WebSocket side of sluiced spoken raw with the ws
// package: connection_established, every error code that closes a
// connection (4001 4004 4005 4006 4007, 4201, 4200), the Origin check, bad
// messages and the message size limit (which leave the connection open),
// pings in both directions, and the connection metrics.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, metrics, sleep, waitFor } from '../lib/sluiced.mjs';
import {
	WsClient, appUrl, closeAll, connect, connectRefused,
} from '../lib/ws.mjs';

const SOCKET_ID = /^\d+\.\d+$/;
const MAX_MESSAGE = 4096;

// An app that takes two WebSocket connections at most.
const LIMITED_APP = {
	id: 'lim',
	key: 'lim-key-0001',
	secret: 'lim-secret-0123456789',
	origins: ['https://allowed.example'],
	default_channel: 'events',
	publish_channels: ['events'],
	public_channels: ['events'],
	max_connections: 2,
};

const { s, start } = useSluiced({ name: 'ws-proto', waitWs: true,
    apps: [TEST_APP, LIMITED_APP],
    websocket: { max_message_bytes: MAX_MESSAGE } });

// Checks a refusal: a pusher:error with code (its data an object with a
// message), then a close with the same code.
function assertClosedWith(r, code) {
	assert.equal(r.httpStatus, null, `the handshake was refused with ` +
	    `HTTP ${r.httpStatus} instead of opening and closing with ${code}`);
	assert.ok(r.error, `no pusher:error before the close ` +
	    `(${r.close.code} ${r.close.reason})`);
	assert.equal(typeof r.error.data, 'object', 'pusher:error data must ' +
	    `be an object: ${r.error.raw}`);
	assert.equal(r.error.data.code, code, r.error.raw);
	assert.equal(typeof r.error.data.message, 'string');
	assert.ok(r.error.data.message.length > 0);
	assert.equal(r.close.code, code, `closed with ${r.close.code} ` +
	    `${r.close.reason}`);
}

// Checks m is a pusher:error with code null that does not close.
async function assertSoftError(c, what) {
	const m = await c.next('pusher:error');
	assert.equal(typeof m.data, 'object', `${what}: ${m.raw}`);
	assert.equal(m.data.code, null, `${what}: ${m.raw}`);
	assert.equal(typeof m.data.message, 'string', `${what}: ${m.raw}`);
	assert.ok(m.data.message.length > 0);
	// Still open and answering.
	await c.ping();
	assert.ok(c.isOpen, `${what}: the connection closed`);
	return m;
}

describe('connecting', () => {
	it('connection_established carries socket_id and activity_timeout',
	    async () => {
		const c = await connect(s);
		try {
			const m = c.established;
			assert.equal(typeof m.data, 'string', 'data must be a ' +
			    `JSON string: ${m.raw}`);
			assert.match(c.socketId, SOCKET_ID);
			assert.equal(c.activityTimeout, 120);
			assert.deepEqual(Object.keys(m.payload).sort(),
			    ['activity_timeout', 'socket_id']);
		} finally {
			await c.close();
		}
	});

	it('socket ids are unique', async () => {
		const clients = [];
		try {
			for (let i = 0; i < 8; i++)
				clients.push(await connect(s));
			const ids = new Set(clients.map((c) => c.socketId));
			assert.equal(ids.size, clients.length,
			    [...clients.map((c) => c.socketId)].join(' '));
		} finally {
			await closeAll(clients);
		}
	});

	it('the query may carry only the protocol', async () => {
		const c = await connect(s, { query: 'protocol=7' });
		await c.close();
	});

	it('4001: unknown app key', async () => {
		assertClosedWith(await connectRefused(s,
		    { key: 'no-such-key-0001' }), 4001);
	});

	for (const path of ['/foo/web-key-0001', '/app/web-key-0001/more',
	    '/apps/web-key-0001', '/']) {
		it(`4005: path ${path}`, async () => {
			assertClosedWith(await connectRefused(s, { path }), 4005);
		});
	}

	for (const query of ['', 'client=js&version=8.4.0', 'protocol=',
	    'protocol=seven', 'protocol=7x']) {
		it(`4006: query "${query}"`, async () => {
			assertClosedWith(await connectRefused(s, { query }), 4006);
		});
	}

	for (const p of ['6', '8', '5']) {
		it(`4007: protocol=${p}`, async () => {
			assertClosedWith(await connectRefused(s,
			    { query: `protocol=${p}&client=js&version=8.4.0` }),
			    4007);
		});
	}

	it('4004: over the app\'s max_connections; others unaffected',
	    async () => {
		const lim = { ...s, key: LIMITED_APP.key };
		const a = await connect(lim);
		const b = await connect(lim);
		let d, w;
		try {
			assertClosedWith(await connectRefused(lim), 4004);
			// Another app is not limited by this one.
			w = await connect(s);
			// A closed connection frees its place.
			await a.close();
			d = await waitFor(() => connect(lim).catch(() => null),
			    { timeout: 15000, what: 'a connection once one ' +
			    'closed' });
			assertClosedWith(await connectRefused(lim), 4004);
		} finally {
			await closeAll([a, b, d, w]);
		}
	});
});

describe('origin', () => {
	it('an Origin not among the app\'s origins: HTTP 403', async () => {
		const c = new WsClient(appUrl(s),
		    { origin: 'https://evil.example' });
		assert.equal(await c.opened, false, 'the WebSocket opened');
		await c.closed;
		assert.equal(c.httpStatus, 403);
	});

	it('an Origin of another app is refused too', async () => {
		const c = new WsClient(appUrl(s, { key: LIMITED_APP.key }),
		    { origin: 'http://localhost:3000' });
		assert.equal(await c.opened, false, 'the WebSocket opened');
		assert.equal(c.httpStatus, 403);
	});

	it('an allowed Origin, and none at all, are taken', async () => {
		const a = await connect(s, { origin: 'https://allowed.example' });
		const b = await connect(s, { origin: 'http://localhost:3000' });
		const c = await connect(s);
		await closeAll([a, b, c]);
	});
});

describe('messages', () => {
	it('pusher:ping is answered with pusher:pong', async () => {
		const c = await connect(s);
		try {
			for (let i = 0; i < 3; i++) {
				const m = await c.ping();
				assert.deepEqual(m.data, {}, m.raw);
			}
		} finally {
			await c.close();
		}
	});

	const bad = [
		['text that is not JSON', 'hello there'],
		['a JSON array', '[1,2,3]'],
		['a JSON string', '"pusher:ping"'],
		['truncated JSON', '{"event":"pusher:ping","data":{'],
		['no event', JSON.stringify({ data: {} })],
		['an event that is not a string', JSON.stringify({ event: 7,
		    data: {} })],
		['an unknown event', JSON.stringify({ event: 'no-such-event',
		    data: {} })],
		['an unknown pusher: event', JSON.stringify({
		    event: 'pusher:no-such-thing', data: {} })],
		['subscribe without data', JSON.stringify({
		    event: 'pusher:subscribe' })],
		['subscribe without channel', JSON.stringify({
		    event: 'pusher:subscribe', data: {} })],
		['subscribe with a channel that is not a string',
		    JSON.stringify({ event: 'pusher:subscribe',
		    data: { channel: 12 } })],
		['unsubscribe without channel', JSON.stringify({
		    event: 'pusher:unsubscribe', data: {} })],
	];
	for (const [what, text] of bad) {
		it(`${what}: pusher:error code null, still open`, async () => {
			const c = await connect(s);
			try {
				await c.send(text);
				await assertSoftError(c, what);
			} finally {
				await c.close();
			}
		});
	}

	it('a message over max_message_bytes is refused, the connection ' +
	    'stays open', async () => {
		const c = await connect(s);
		try {
			const big = JSON.stringify({ event: 'pusher:subscribe',
			    data: { channel: 'events', pad: 'x'.repeat(
			    MAX_MESSAGE) } });
			await c.send(big);
			const m = await assertSoftError(c, 'a big message');
			assert.match(m.data.message,
			    /4096|4 ?K|max_message_bytes|too (big|large|long)/i,
			    `the message does not name the limit: ${m.raw}`);
			// It was discarded, not acted on.
			assert.equal(c.drainInbox((x) => x.channel ===
			    'events').length, 0);
			// One just under the limit is taken.
			const pad = 'y'.repeat(MAX_MESSAGE - 100);
			const ok = JSON.stringify({ event: 'pusher:subscribe',
			    data: { channel: 'game-1', pad } });
			assert.ok(Buffer.byteLength(ok) <= MAX_MESSAGE);
			await c.send(ok);
			const r = await c.next({ channel: 'game-1' });
			assert.equal(r.event,
			    'pusher_internal:subscription_succeeded', r.raw);
		} finally {
			await c.close();
		}
	});

	it('the limit applies to the reassembled message, not frames',
	    async () => {
		const c = await connect(s);
		try {
			// Three frames of 2000 bytes: each under, all over.
			const text = JSON.stringify({ event: 'pusher:subscribe',
			    data: { channel: 'events', pad: 'z'.repeat(6000) } });
			const parts = [text.slice(0, 2000), text.slice(2000, 4000),
			    text.slice(4000)];
			await c.send(parts[0], { fin: false });
			await c.send(parts[1], { fin: false });
			await c.send(parts[2], { fin: true });
			const m = await assertSoftError(c, 'a fragmented big ' +
			    'message');
			assert.match(m.data.message,
			    /4096|4 ?K|max_message_bytes|too (big|large|long)/i,
			    m.raw);
			assert.equal(c.drainInbox((x) => x.channel ===
			    'events').length, 0);
			// A small message in two frames is reassembled.
			const sub = JSON.stringify({ event: 'pusher:subscribe',
			    data: { channel: 'game-2' } });
			await c.send(sub.slice(0, 10), { fin: false });
			await c.send(sub.slice(10), { fin: true });
			await c.next({ event: 'pusher_internal:subscription_' +
			    'succeeded', channel: 'game-2' });
		} finally {
			await c.close();
		}
	});
});

describe('pings from the server', () => {
	const ACTIVITY = 1;
	const PONG = 2;
	let t;

	it('starts a daemon with activity_timeout 1 and pong_timeout 2',
	    async () => {
		t = await start({ name: 'ws-ping', waitWs: true, websocket: {
		    activity_timeout: ACTIVITY, pong_timeout: PONG } });
	});

	it('a client that answers pings stays connected', {
	    timeout: 60000 }, async () => {
		const c = await connect(t);
		try {
			assert.equal(c.activityTimeout, ACTIVITY);
			// Three server pings answered: over three times
			// activity_timeout + pong_timeout in all.
			const t0 = Date.now();
			for (let i = 0; i < 3; i++) {
				const p = await c.next('pusher:ping',
				    { timeout: 20000 });
				assert.deepEqual(p.data, {}, p.raw);
				await c.send({ event: 'pusher:pong', data: {} });
			}
			const took = Date.now() - t0;
			assert.ok(took >= 2 * ACTIVITY * 1000 - 200,
			    `three pings in ${took} ms: faster than ` +
			    'activity_timeout');
			await c.ping();
			assert.ok(c.isOpen);
			assert.equal(c.drainInbox('pusher:error').length, 0);
		} finally {
			await c.close();
		}
	});

	it('a silent client is pinged, then closed with 4201', {
	    timeout: 60000 }, async () => {
		const before = await metrics(t);
		const c = await connect(t);
		const t0 = Date.now();
		await c.next('pusher:ping', { timeout: 20000 });
		const pinged = Date.now() - t0;
		const close = await c.waitClose({ timeout: 30000 });
		const closed = Date.now() - t0;
		const [err] = c.drainInbox('pusher:error');
		assert.ok(err, 'no pusher:error before the close');
		assert.equal(err.data.code, 4201, err.raw);
		assert.equal(close.code, 4201, `closed with ${close.code}`);
		assert.ok(pinged >= ACTIVITY * 1000 - 200, `pinged after ` +
		    `${pinged} ms, before activity_timeout`);
		assert.ok(closed - pinged >= PONG * 1000 - 200, `closed ` +
		    `${closed - pinged} ms after the ping, before pong_timeout`);
		const key = 'sluice_ws_closes_total{code="4201"}';
		await waitFor(async () => ((await metrics(t)).get(key) ?? 0) >
		    (before.get(key) ?? 0), { what: `${key} to move` });
	});

	it('any message counts as activity: a chatty client is not pinged',
	    { timeout: 60000 }, async () => {
		const c = await connect(t);
		try {
			// Client pings every 200 ms or so for 4 s: never
			// silent for activity_timeout.
			const end = Date.now() + 4000;
			while (Date.now() < end) {
				await c.ping();
				await sleep(200);
			}
			assert.deepEqual(c.drainInbox('pusher:ping'), []);
			assert.ok(c.isOpen);
		} finally {
			await c.close();
		}
	});

	it('stops the daemon', async () => {
		assert.equal(await t.stop(), 0);
	});
});

describe('connection metrics', () => {
	it('connections, subscriptions, frames, bytes and closes move',
	    async () => {
		const m = await start({ name: 'ws-metrics', waitWs: true });
		// The port probe of waitWs is no WebSocket, but wait for
		// the gauge all the same.
		const m0 = await waitFor(async () => {
			const x = await metrics(m);
			return x.get('sluice_ws_connections') === 0 ? x : null;
		}, { what: 'sluice_ws_connections 0 at the start' });
		for (const family of ['sluice_ws_connections',
		    'sluice_ws_connections_total', 'sluice_ws_subscriptions',
		    'sluice_ws_frames_total{direction="in"}',
		    'sluice_ws_frames_total{direction="out"}',
		    'sluice_ws_bytes_total{direction="in"}',
		    'sluice_ws_bytes_total{direction="out"}',
		    'sluice_ws_slow_consumer_closes_total',
		    'sluice_hub_channels', 'sluice_hub_subscriptions'])
			assert.ok(m0.has(family), `/metrics has no ${family}`);
		assert.equal(m0.get('sluice_ws_connections'), 0);
		assert.equal(m0.get('sluice_ws_subscriptions'), 0);
		assert.equal(m0.get('sluice_hub_channels'), 0);
		assert.equal(m0.get('sluice_hub_subscriptions'), 0);
		const clients = [];
		try {
			for (let i = 0; i < 3; i++)
				clients.push(await connect(m));
			await clients[0].mustSubscribe('events');
			await clients[1].mustSubscribe('events');
			await clients[1].mustSubscribe('game-3');
			await clients[2].ping();
			const m1 = await metrics(m);
			assert.equal(m1.get('sluice_ws_connections'), 3);
			assert.ok(m1.get('sluice_ws_connections_total') >= 3);
			assert.equal(m1.get('sluice_ws_subscriptions'), 3);
			// Read from the hub on its own thread: exact.
			assert.equal(m1.get('sluice_hub_channels'), 2);
			assert.equal(m1.get('sluice_hub_subscriptions'), 3);
			for (const k of ['frames', 'bytes']) {
				for (const dir of ['in', 'out']) {
					const key = `sluice_ws_${k}_total` +
					    `{direction="${dir}"}`;
					assert.ok(m1.get(key) > m0.get(key), key);
				}
			}
			// 3 subscribes + 1 ping in, at least that many out.
			assert.ok(m1.get('sluice_ws_frames_total{direction="in"}') -
			    m0.get('sluice_ws_frames_total{direction="in"}') >= 4);
			assert.ok(m1.get('sluice_ws_bytes_total{direction="out"}') -
			    m0.get('sluice_ws_bytes_total{direction="out"}') >=
			    3 * 60);
			await clients[1].unsubscribe('game-3');
			await clients[1].ping();
			const m15 = await metrics(m);
			assert.equal(m15.get('sluice_ws_subscriptions'), 2);
			assert.equal(m15.get('sluice_hub_channels'), 1);
			assert.equal(m15.get('sluice_hub_subscriptions'), 2);
			await connectRefused(m, { key: 'no-such-key-0002' });
			await connectRefused(m, { query: 'protocol=6' });
			await clients[0].close();
			await clients[1].terminate();
			const m2 = await waitFor(async () => {
				const x = await metrics(m);
				return x.get('sluice_ws_connections') === 1 &&
				    x.get('sluice_ws_subscriptions') === 0 ? x : null;
			}, { what: 'connections 1 and subscriptions 0' });
			assert.ok(m2.get('sluice_ws_connections_total') -
			    m0.get('sluice_ws_connections_total') >= 5);
			assert.equal(m2.get('sluice_ws_closes_total{code="4001"}'),
			    1);
			assert.equal(m2.get('sluice_ws_closes_total{code="4007"}'),
			    1);
		} finally {
			await closeAll(clients);
		}
		await waitFor(async () => (await metrics(m)).get(
		    'sluice_ws_connections') === 0, { what: 'connections 0' });
		assert.equal(await m.stop(), 0);
	});
});

describe('SIGTERM', () => {
	it('every WebSocket gets 4200, then sluiced exits 0', {
	    timeout: 60000 }, async () => {
		const d = await start({ name: 'ws-term', waitWs: true });
		const clients = [];
		for (let i = 0; i < 4; i++)
			clients.push(await connect(d));
		await clients[0].mustSubscribe('events');
		await clients[1].mustSubscribe('game-9');
		d.proc.kill('SIGTERM');
		const closes = await Promise.all(clients.map((c) =>
		    c.waitClose({ timeout: 20000 })));
		for (const [i, c] of clients.entries()) {
			const [err] = c.drainInbox('pusher:error');
			assert.ok(err, `client ${i}: no pusher:error before the ` +
			    `close (${closes[i].code})`);
			assert.equal(err.data.code, 4200, err.raw);
			assert.equal(closes[i].code, 4200, `client ${i} closed ` +
			    `with ${closes[i].code} ${closes[i].reason}`);
		}
		assert.equal(await d.stop(), 0, d.log());
	});
});
