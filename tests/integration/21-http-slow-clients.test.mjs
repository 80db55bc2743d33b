// 21-http-slow-clients: slow and greedy HTTP clients do not stop the
// service. Many connections from one address that send their request head
// a little at a time: past http_max_connections_per_client they are
// refused with 429, the others are answered 408 and closed at
// http_header_timeout, /healthz from another address answers at once all
// along, and the client is logged once, not once per connection. A body
// that trickles in is closed at its deadline too. Loopback only: the
// clients use 127.0.0.2 and 127.0.0.3 as their own addresses.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';

import { metrics, request, sleep, startSluiced, waitFor } from
    '../lib/sluiced.mjs';

const PER_CLIENT = 20;
const SLOW = 60;		// connections the slow client opens
const HEADER_S = 3;

// A connection from localAddress that sends a request head's first line
// and then a header byte every 300 ms, never finishing it. Resolves once
// connected; .reply is what the server sent, .ended resolves on close.
function slowClient(port, localAddress) {
	return new Promise((resolve) => {
		const c = { reply: '', closedAt: null };
		const sock = net.connect({ port, host: '127.0.0.1', localAddress });
		c.sock = sock;
		c.ended = new Promise((done) => {
			sock.on('close', () => {
				c.closedAt = Date.now();
				clearInterval(c.timer);
				done();
			});
		});
		sock.on('error', () => {});
		sock.on('data', (d) => {
			c.reply += d.toString('latin1');
		});
		sock.on('connect', () => {
			sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
			c.timer = setInterval(() => {
				if (!sock.destroyed)
					sock.write('a');
			}, 300);
			resolve(c);
		});
	});
}

describe('slow HTTP clients', () => {
	let s;
	const clients = [];

	after(async () => {
		for (const c of clients) {
			clearInterval(c.timer);
			c.sock.destroy();
		}
		if (s)
			await s.stop();
	});

	it('are limited per address and closed at the head deadline, ' +
	    'while /healthz answers', async () => {
		s = await startSluiced({ name: 'http-slow', server: {
			http_max_connections: SLOW,
			http_max_connections_per_client: PER_CLIENT,
			http_header_timeout: HEADER_S,
			http_timeout: 60,
		} });
		const t0 = Date.now();
		for (let i = 0; i < SLOW; i++)
			clients.push(await slowClient(s.port, '127.0.0.2'));
		// The excess is refused at once, with 429.
		await waitFor(async () => (await metrics(s)).get(
		    'sluice_http_connections_refused_total') >=
		    SLOW - PER_CLIENT, { timeout: 5000, what: 'refusals' });
		const m1 = await metrics(s);
		assert.equal(m1.get('sluice_http_connections_refused_total'),
		    SLOW - PER_CLIENT);
		await waitFor(() => clients.filter((c) => c.closedAt).length >=
		    SLOW - PER_CLIENT, { timeout: 5000, what: 'refused closed' });
		const refused = clients.filter((c) => c.closedAt !== null);
		assert.equal(refused.length, SLOW - PER_CLIENT);
		for (const c of refused) {
			if (c.reply !== '')
				assert.match(c.reply, /^HTTP\/1\.1 429 .*too_many_connections/s);
		}
		assert.ok(refused.some((c) => c.reply.startsWith('HTTP/1.1 429')),
		    'no refused connection read its 429');
		// Others are served quickly meanwhile.
		for (let i = 0; i < 5; i++) {
			const t = Date.now();
			const r = await request('GET', `${s.baseUrl}/healthz`,
			    { timeout: 2000 });
			assert.equal(r.status, 200);
			assert.ok(Date.now() - t < 500, `/healthz took ` +
			    `${Date.now() - t} ms`);
		}
		// The ones let in trickle bytes in vain: 408 at the deadline.
		await Promise.all(clients.map((c) => c.ended));
		const held = clients.filter((c) => !refused.includes(c));
		for (const c of held) {
			assert.match(c.reply, /^HTTP\/1\.1 408 .*request_timeout/s);
			const lived = (c.closedAt - t0) / 1000;
			assert.ok(lived >= HEADER_S - 0.5 && lived < HEADER_S + 3,
			    `closed after ${lived} s`);
		}
		const m2 = await metrics(s);
		assert.equal(m2.get('sluice_http_deadline_closes_total{phase="head"}'),
		    PER_CLIENT);
		assert.equal(m2.get('sluice_http_requests_total{code="408"}'),
		    PER_CLIENT);
		assert.equal(m2.get('sluice_http_requests_total{code="429"}'),
		    SLOW - PER_CLIENT);
		// One line for the client, however many were dropped.
		const lines = s.log().split('\n').filter((l) =>
		    l.includes('client 127.0.0.2:'));
		assert.equal(lines.length, 1, lines.join('\n'));
		// Room again for that address.
		const again = await slowClient(s.port, '127.0.0.2');
		clients.push(again);
		await sleep(300);
		assert.equal(again.closedAt, null);
	});

	it('close a body that does not arrive in time', async () => {
		s = s || await startSluiced({ name: 'http-slow' });
		const before = (await metrics(s)).get(
		    'sluice_http_deadline_closes_total{phase="body"}');
		// 1000 bytes at 1K/s at least: HEADER_S + 1 s.
		await s.restart({ server: {
			http_max_connections_per_client: PER_CLIENT,
			http_header_timeout: HEADER_S,
			http_body_min_rate: '1K',
		} });
		const c = await new Promise((resolve) => {
			const o = { reply: '', closedAt: null };
			const sock = net.connect({ port: s.port, host: '127.0.0.1',
			    localAddress: '127.0.0.3' });
			o.sock = sock;
			o.ended = new Promise((done) => sock.on('close', () => {
				o.closedAt = Date.now();
				clearInterval(o.timer);
				done();
			}));
			sock.on('error', () => {});
			sock.on('data', (d) => {
				o.reply += d.toString('latin1');
			});
			sock.on('connect', () => {
				sock.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n` +
				    `X-Sluice-Key: ${s.key}\r\nContent-Type: ` +
				    `application/json\r\nContent-Length: 1000\r\n\r\n[`);
				o.start = Date.now();
				o.timer = setInterval(() => {
					if (!sock.destroyed)
						sock.write(' ');
				}, 300);
				resolve(o);
			});
		});
		clients.push(c);
		await c.ended;
		assert.match(c.reply, /^HTTP\/1\.1 408 .*body of 1000 bytes/s);
		const lived = (c.closedAt - c.start) / 1000;
		assert.ok(lived >= HEADER_S + 0.5 && lived < HEADER_S + 4,
		    `closed after ${lived} s`);
		assert.equal((await metrics(s)).get(
		    'sluice_http_deadline_closes_total{phase="body"}'), 1);
		assert.ok(before === 0 || before === undefined);
	});
});
