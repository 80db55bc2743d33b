// 24-ws-port: the WebSocket port itself: it is bound to exactly the
// address websocket.listen names (an IPv4 one, and [::1]), read back from
// the kernel's table of listening sockets; and a plain HTTP request on it,
// sent over a raw socket, is answered at once (426 Upgrade Required with a
// JSON body, 200 for GET /healthz) instead of hanging.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';

import { freePort, startSluiced } from '../lib/sluiced.mjs';
import { PROTOCOL_QUERY, connect } from '../lib/ws.mjs';

const daemons = [];

after(async () => {
	for (const d of daemons)
		await d.stop();
});

async function start(opts) {
	const d = await startSluiced({ name: 'ws-port', waitWs: true,
	    amqpUrl: 'amqp://guest:guest@127.0.0.1:1', ...opts });
	daemons.push(d);
	return d;
}

// The local addresses of the sockets listening on port, from
// /proc/net/tcp and tcp6: [{family, address}] with the address as the
// kernel writes it (hex, in the host's byte order per 32-bit word).
function listeners(port) {
	const found = [];
	for (const [file, family] of [['/proc/net/tcp', 4],
	    ['/proc/net/tcp6', 6]]) {
		let text;
		try {
			text = fs.readFileSync(file, 'utf8');
		} catch {
			continue;	// no IPv6 in this kernel
		}
		for (const line of text.split('\n').slice(1)) {
			const f = line.trim().split(/\s+/);
			if (f.length < 4 || f[3] !== '0A')	// LISTEN
				continue;
			const [address, hexPort] = f[1].split(':');
			if (parseInt(hexPort, 16) === port)
				found.push({ family, address });
		}
	}
	return found;
}

// Whether this machine can listen on [::1].
function haveIpv6Loopback() {
	return new Promise((resolve) => {
		const srv = net.createServer();
		srv.once('error', () => resolve(false));
		srv.listen(0, '::1', () => srv.close(() => resolve(true)));
	});
}

// Sends text over a raw TCP socket to host:port; resolves what came back
// before the server closed ({text, ms}), or rejects after timeout ms.
function rawExchange(port, text, { host = '127.0.0.1', timeout = 5000 } =
    {}) {
	return new Promise((resolve, reject) => {
		const t0 = Date.now();
		const parts = [];
		const sock = net.connect({ host, port }, () => sock.write(text));
		const timer = setTimeout(() => {
			sock.destroy();
			reject(new Error(`no answer and no close in ${timeout} ms; ` +
			    `got ${JSON.stringify(Buffer.concat(parts).toString())}`));
		}, timeout);
		sock.on('data', (d) => parts.push(d));
		sock.on('error', () => {});
		sock.on('close', () => {
			clearTimeout(timer);
			resolve({ text: Buffer.concat(parts).toString('utf8'),
			    ms: Date.now() - t0 });
		});
	});
}

// Splits a raw HTTP/1.1 response into status, headers (lower-case) and body.
function parseResponse(text) {
	const at = text.indexOf('\r\n\r\n');
	assert.ok(at > 0, `not an HTTP response: ${JSON.stringify(text)}`);
	const [statusLine, ...lines] = text.slice(0, at).split('\r\n');
	const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
	assert.ok(m, `bad status line: ${statusLine}`);
	const headers = {};
	for (const l of lines) {
		const i = l.indexOf(':');
		headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
	}
	return { status: Number(m[1]), reason: m[2], headers,
	    body: text.slice(at + 4) };
}

describe('listen address', () => {
	it('127.0.0.1:PORT binds 127.0.0.1 only, not every address',
	    async () => {
		const d = await start({});
		const l = listeners(d.wsPort);
		assert.deepEqual(l, [{ family: 4, address: '0100007F' }],
		    `listening sockets on ${d.wsPort}: ${JSON.stringify(l)}`);
	});

	it('[::1]:PORT binds ::1 only', async (t) => {
		if (!await haveIpv6Loopback()) {
			t.skip('no IPv6 loopback on this machine');
			return;
		}
		const wsPort = await freePort();
		const d = await startSluiced({ name: 'ws-port6', wsPort,
		    amqpUrl: 'amqp://guest:guest@127.0.0.1:1',
		    websocket: { listen: `[::1]:${wsPort}` } });
		daemons.push(d);
		const l = listeners(wsPort);
		assert.deepEqual(l, [{ family: 6,
		    address: '00000000000000000000000001000000' }],
		    `listening sockets on ${wsPort}: ${JSON.stringify(l)}`);
		// And it serves there.
		const c = await connect(`ws://[::1]:${wsPort}/app/${d.key}?` +
		    PROTOCOL_QUERY);
		await c.close();
	});

	it('an address that is not this machine\'s stops sluiced at start',
	    async () => {
		// 192.0.2.0/24 is TEST-NET-1: no interface has it.
		const wsPort = await freePort();
		await assert.rejects(startSluiced({ name: 'ws-port-none', wsPort,
		    amqpUrl: 'amqp://guest:guest@127.0.0.1:1',
		    websocket: { listen: `192.0.2.1:${wsPort}` } }),
		    /exited \(1\)[\s\S]*cannot listen on 192\.0\.2\.1:/);
	});
});

describe('plain HTTP on the WebSocket port', () => {
	let d;
	const ask = async (text) => {
		if (!d)
			d = await start({});
		const r = await rawExchange(d.wsPort, text);
		assert.ok(r.ms < 3000, `answered after ${r.ms} ms`);
		return parseResponse(r.text);
	};

	it('GET / gets 426 Upgrade Required with a JSON body, at once',
	    async () => {
		const r = await ask('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
		assert.equal(r.status, 426);
		assert.equal(r.reason, 'Upgrade Required');
		assert.equal(r.headers.upgrade, 'websocket');
		assert.match(r.headers['content-type'], /^application\/json/);
		assert.equal(Number(r.headers['content-length']),
		    Buffer.byteLength(r.body));
		const body = JSON.parse(r.body);
		assert.equal(body.error, 'upgrade_required');
		assert.match(body.message, /WebSocket/);
		assert.match(body.message, /\/app\/KEY\?protocol=7/);
	});

	it('a path of the protocol, without the upgrade, gets 426 too',
	    async () => {
		const r = await ask(`GET /app/${'web-key-0001'}?protocol=7 ` +
		    'HTTP/1.1\r\nHost: x\r\n\r\n');
		assert.equal(r.status, 426);
	});

	it('a POST with a body gets 426', async () => {
		const body = '{"event":"x"}';
		const r = await ask('POST /v1/events HTTP/1.1\r\nHost: x\r\n' +
		    'Content-Type: application/json\r\n' +
		    `Content-Length: ${body.length}\r\n\r\n${body}`);
		assert.equal(r.status, 426);
	});

	it('GET /healthz gets 200 {"alive":true}; HEAD no body', async () => {
		let r = await ask('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
		assert.equal(r.status, 200);
		assert.deepEqual(JSON.parse(r.body), { alive: true });
		r = await ask('HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
		assert.equal(r.status, 200);
		assert.equal(r.body, '');
	});

	it('HTTP/1.0 is answered and closed as well', async () => {
		const r = await ask('GET / HTTP/1.0\r\n\r\n');
		assert.equal(r.status, 426);
	});

	it('WebSocket clients still connect afterwards', async () => {
		const r = await ask('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
		assert.equal(r.status, 200);
		const c = await connect(d);
		await c.close();
	});
});
