// The WebSocket link: backoff ranges by close code (Pusher's: 4000-4099
// final, 4100-4199 longer, 4200-4299 at once, others normal), reconnect
// timing, subscriptions restored after a reconnect (private ones with a new
// auth for the new socket_id), channel events to their handlers, pings both
// ways, and the connect timeout.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { backoff, VERSION } from '../src/link.js';
import { env } from './env.mjs';

const MIN = 500;
const MAX = 30000;

describe('backoff', () => {
	// The range a wait must be in: (top / 2, top].
	function assertIn(code, n, top) {
		const lo = backoff(code, n, MIN, MAX, () => 1);
		const hi = backoff(code, n, MIN, MAX, () => 0);
		assert.equal(hi, top, `code ${code}, attempt ${n}: top`);
		assert.equal(lo, top / 2, `code ${code}, attempt ${n}: bottom`);
		for (let i = 0; i < 50; i++) {
			const d = backoff(code, n, MIN, MAX, Math.random);
			assert.ok(d >= top / 2 && d <= top, `${d} out of range`);
		}
	}

	it('grows exponentially to reconnectMax for plain closes', () => {
		for (const code of [1000, 1001, 1006, 1011, 4300, 4999, undefined]) {
			for (let n = 0; n < 12; n++)
				assertIn(code, n, Math.min(MAX, MIN * 2 ** n));
		}
	});

	it('backs off 8 times longer for 4100-4199', () => {
		for (const code of [4100, 4150, 4199]) {
			for (let n = 0; n < 10; n++)
				assertIn(code, n, Math.min(MAX, MIN * 8 * 2 ** n));
		}
	});

	it('reconnects at once for 4200-4299', () => {
		for (const code of [4200, 4201, 4299]) {
			for (let n = 0; n < 5; n++)
				assert.equal(backoff(code, n, MIN, MAX, Math.random), 0);
		}
	});

	it('does not reconnect for 4000-4099', () => {
		for (const code of [4000, 4001, 4004, 4007, 4099])
			assert.equal(backoff(code, 0, MIN, MAX, Math.random), -1);
	});
});

describe('reconnect', () => {
	it('connects to /app/KEY with protocol 7', async () => {
		const e = env();
		const c = e.make();
		assert.equal(c.state, 'connecting');
		await e.clock.tick(0);
		assert.equal(c.state, 'connected');
		const url = new URL(e.srv.sockets[0].url);
		assert.equal(url.origin + url.pathname, 'ws://gw.test/app/web-key-0001');
		assert.equal(url.searchParams.get('protocol'), '7');
		assert.equal(url.searchParams.get('client'), 'sluice-js');
		assert.equal(url.searchParams.get('version'), VERSION);
		await e.shutdown();
		assert.equal(c.state, 'closed');
		assert.equal(e.srv.sockets[0].closeCode, 1000);
	});

	// Closes the link with code; returns the ms until the next socket.
	async function reconnectDelay(e, code, limit = 120000) {
		const n = e.srv.sockets.length;
		e.srv.last.serverClose(code);
		for (let ms = 0; ms <= limit; ms++) {
			if (e.srv.sockets.length > n)
				return ms - 1;
			await e.clock.tick(ms === 0 ? 0 : 1);
		}
		return Infinity;
	}

	for (const [code, wait] of [[1006, 375], [1001, 375], [4100, 3000],
	    [4200, 0], [4201, 0]]) {
		it(`close ${code}: reconnects after ${wait} ms, then goes on`,
		    async () => {
			const e = env();
			const c = e.make();
			const seen = e.watch(c);
			await e.clock.tick(0);
			assert.equal(await reconnectDelay(e, code), wait);
			await e.clock.tick(0);
			assert.equal(c.state, 'connected');
			assert.ok(seen.states.includes('disconnected'));
			assert.equal(seen.errors.length, 0);
			await e.shutdown();
		});
	}

	it('close 4001: does not reconnect; state failed', async () => {
		const e = env();
		const c = e.make({ httpUrl: undefined });
		const seen = e.watch(c);
		await e.clock.tick(0);
		e.srv.last.deliver({ event: 'pusher:error',
		    data: { code: 4001, message: 'unknown app key' } });
		await e.clock.tick(0);
		assert.equal(await reconnectDelay(e, 4001, 600), Infinity);
		assert.equal(c.state, 'failed');
		assert.equal(e.srv.sockets.length, 1);
		assert.equal(seen.errors[0].code, 4001);
		assert.equal(seen.errors[0].message, 'unknown app key');
		await e.shutdown();
	});

	it('failed attempts in a row wait longer each time, up to the cap',
	    async () => {
		const e = env();
		e.srv.mode = 'refuse';
		const c = e.make({ reconnectMax: 5000 });
		const times = [];
		const start = e.clock.now();
		for (let i = 0; i < 8; i++) {
			while (e.srv.sockets.length <= i)
				await e.clock.tick(1);
			times.push(e.clock.now() - start);
		}
		const gaps = times.slice(1).map((t, i) => t - times[i]);
		assert.deepEqual(gaps, [750, 1500, 3000, 3750, 3750, 3750, 3750]);
		assert.equal(c.state, 'disconnected');
		e.srv.mode = 'accept';
		await e.clock.tick(3750);
		assert.equal(c.state, 'connected');
		// A success starts the count again.
		assert.equal(await reconnectDelay(e, 1006), 375);
		await e.shutdown();
	});

	it('gives up on a connection not established in connectTimeout',
	    async () => {
		const e = env();
		e.srv.mode = 'hang';
		const c = e.make({ connectTimeout: 2000 });
		await e.clock.tick(1999);
		assert.equal(e.srv.sockets[0].readyState, 0);
		await e.clock.tick(1);
		assert.ok(e.srv.sockets[0].readyState >= 2, 'not closed');
		assert.equal(c.state, 'disconnected');
		e.srv.mode = 'accept';
		await e.clock.tick(749);
		assert.equal(e.srv.sockets.length, 1);
		await e.clock.tick(1);
		assert.equal(e.srv.sockets.length, 2);
		assert.equal(c.state, 'connected');
		await e.shutdown();
	});
});

describe('subscriptions', () => {
	it('delivers channel events and restores subscriptions after a ' +
	    'reconnect', async () => {
		const e = env();
		const auths = [];
		const c = e.make({
			authorizer: async (socketId, channel) => {
				auths.push([socketId, channel]);
				return `${'web-key-0001'}:sig-${socketId}-${channel}`;
			},
		});
		const got = [];
		const offA = c.subscribe('game-1', (env1, name) =>
		    got.push(['a', name, env1]));
		c.subscribe('private-room', (env1, name) => got.push(['p', name,
		    env1.id]));
		const offGone = c.subscribe('events', () => got.push(['gone']));
		offGone();
		await e.clock.tick(0);
		let sock = e.srv.last;
		assert.deepEqual(sock.sentOf('pusher:subscribe').map((m) => m.data),
		    [{ channel: 'game-1' }, { channel: 'private-room',
		    auth: `web-key-0001:sig-${sock.socketId}-private-room` }]);
		assert.equal(sock.format, 'envelope');
		const envelope = { id: 'e1', event: 'click', channel: 'game-1',
		    data: { n: 1 } };
		sock.deliverEvent(envelope);
		sock.deliverEvent({ id: 'e2', event: 'msg',
		    channel: 'private-room' });
		sock.deliverEvent({ id: 'e3', event: 'other', channel: 'events' });
		await e.clock.tick(0);
		assert.deepEqual(got, [['a', 'click', envelope], ['p', 'msg', 'e2']]);

		sock.serverClose(1006);
		await e.clock.tick(375);
		sock = e.srv.last;
		assert.equal(e.srv.sockets.length, 2);
		assert.equal(c.state, 'connected');
		assert.deepEqual(sock.sentOf('pusher:subscribe').map((m) => m.data),
		    [{ channel: 'game-1' }, { channel: 'private-room',
		    auth: `web-key-0001:sig-${sock.socketId}-private-room` }]);
		assert.deepEqual(auths.map((a) => a[0]), [e.srv.sockets[0].socketId,
		    e.srv.sockets[1].socketId]);
		assert.deepEqual([...sock.subs].sort(), ['game-1', 'private-room']);
		// Subscribed at connect: the URL asks for the envelope.
		assert.match(sock.url, /[?&]format=envelope$/);
		assert.deepEqual(sock.sentOf('sluice:options'), []);
		assert.equal(sock.format, 'envelope');

		offA();
		assert.deepEqual(sock.sentOf('pusher:unsubscribe').map((m) =>
		    m.data), [{ channel: 'game-1' }]);
		sock.deliver({ event: 'click', channel: 'game-1', data: '{}' });
		await e.clock.tick(0);
		assert.equal(got.length, 2);
		await e.shutdown();
	});

	it('asks for envelopes once it has subscribers, and hands a frame ' +
	    'without one over as {channel, event, data}', async () => {
		const e = env();
		const c = e.make();
		await e.clock.tick(0);
		const sock = e.srv.last;
		// A tracker alone takes no envelopes.
		assert.equal(c.state, 'connected');
		assert.doesNotMatch(sock.url, /format=/);
		assert.deepEqual(sock.sentOf('sluice:options'), []);
		const got = [];
		c.subscribe('game-1', (event, name) => got.push([name, event]));
		c.subscribe('game-2', (event, name) => got.push([name, event]));
		await e.clock.tick(0);
		// Asked once, before the first subscribe.
		assert.deepEqual(sock.sent.filter((m) => m.event !== 'pusher:ping')
		    .map((m) => m.event), ['sluice:options', 'pusher:subscribe',
		    'pusher:subscribe']);
		assert.deepEqual(sock.sentOf('sluice:options')[0].data,
		    { format: 'envelope' });
		assert.equal(sock.format, 'envelope');
		const envelope = { id: 'e1', event: 'click', channel: 'game-1',
		    data: 'text', source: 'ws' };
		sock.deliverEvent(envelope);
		// Frames without an envelope: the data as published.
		sock.deliver({ event: 'client-move', channel: 'game-2',
		    data: JSON.stringify({ x: 1 }) });
		sock.deliver({ event: 'client-say', channel: 'game-2',
		    data: 'not JSON' });
		sock.deliver({ event: 'client-none', channel: 'game-2',
		    data: 'null' });
		await e.clock.tick(0);
		assert.deepEqual(got, [
			['click', envelope],
			['client-move', { channel: 'game-2', event: 'client-move',
			    data: { x: 1 } }],
			['client-say', { channel: 'game-2', event: 'client-say',
			    data: 'not JSON' }],
			['client-none', { channel: 'game-2', event: 'client-none',
			    data: null }],
		]);
		await e.shutdown();
	});

	it('reports a subscription_error and an authorizer that fails',
	    async () => {
		const e = env();
		const c = e.make({ authorizer: async () => {
			throw new Error('no session');
		} });
		const seen = e.watch(c);
		c.subscribe('private-x', () => {});
		c.subscribe('secret', () => {});
		await e.clock.tick(0);
		e.srv.last.deliver({ event: 'pusher:subscription_error',
		    channel: 'secret', data: { type: 'AuthError', error: 'not public',
		    status: 403 } });
		await e.clock.tick(0);
		assert.deepEqual(seen.errors.map((x) => [x.code, x.channel,
		    x.message]), [['auth', 'private-x', 'no session'],
		    ['subscription', 'secret', 'not public']]);
		assert.equal(seen.errors[1].status, 403);
		assert.equal(seen.errors[1].type, 'AuthError');
		await e.shutdown();
	});

	it('a handler that throws does not stop the others', async () => {
		const e = env();
		const c = e.make();
		const got = [];
		const thrown = [];
		c.subscribe('events', () => {
			throw new Error('app bug');
		});
		c.subscribe('events', (d) => got.push(d.id));
		await e.clock.tick(0);
		e.srv.last.deliverEvent({ id: 'q', event: 'x', channel: 'events' });
		// What a handler throws is thrown again from a timer of its own:
		// caught here as that timer runs.
		const realSetTimeout = globalThis.setTimeout;
		globalThis.setTimeout = (fn, ms) => {
			if (ms === undefined) {
				try {
					fn();
				} catch (err) {
					thrown.push(err.message);
				}
				return 0;
			}
			return realSetTimeout(fn, ms);
		};
		try {
			await e.clock.tick(0);
		} finally {
			globalThis.setTimeout = realSetTimeout;
		}
		assert.deepEqual(got, ['q']);
		assert.deepEqual(thrown, ['app bug']);
		assert.equal(c.state, 'connected');
		await e.shutdown();
	});
});

describe('pings', () => {
	it('answers the server\'s ping', async () => {
		const e = env();
		e.make();
		await e.clock.tick(0);
		e.srv.last.deliver({ event: 'pusher:ping', data: {} });
		await e.clock.tick(0);
		assert.equal(e.srv.last.sentOf('pusher:pong').length, 1);
		await e.shutdown();
	});

	it('pings after activity_timeout of silence; no pong: reconnects',
	    async () => {
		const e = env();
		const c = e.make({ pongTimeout: 10000 });
		await e.clock.tick(0);
		const sock = e.srv.last;
		// The server said 120 s.
		await e.clock.tick(119999);
		assert.equal(sock.sentOf('pusher:ping').length, 0);
		await e.clock.tick(1);
		assert.equal(sock.sentOf('pusher:ping').length, 1);
		// It answered: no reconnect; the next ping 120 s later.
		await e.clock.tick(60000);
		assert.equal(c.state, 'connected');
		assert.equal(e.srv.sockets.length, 1);
		sock.deaf = true;
		await e.clock.tick(60000);
		assert.equal(sock.sentOf('pusher:ping').length, 2);
		await e.clock.tick(9999);
		assert.equal(e.srv.sockets.length, 1);
		await e.clock.tick(1);
		assert.ok(sock.readyState >= 2, 'not closed');
		assert.equal(c.state, 'disconnected');
		await e.clock.tick(375);
		assert.equal(e.srv.sockets.length, 2);
		assert.equal(c.state, 'connected');
		await e.shutdown();
	});

	it('uses activityTimeout when it is shorter than the server\'s',
	    async () => {
		const e = env();
		e.make({ activityTimeout: 30000 });
		await e.clock.tick(30000);
		assert.equal(e.srv.last.sentOf('pusher:ping').length, 1);
		await e.shutdown();
	});
});
