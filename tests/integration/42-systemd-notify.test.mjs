// 42-systemd-notify: sluiced under a service manager (a Type=notify unit):
// READY=1 arrives on NOTIFY_SOCKET only once GET /readyz would say ready
// (here: once the broker, unreachable at the start, can be reached), with
// a STATUS= saying why not before; WATCHDOG=1 at half WATCHDOG_USEC;
// STOPPING=1 at SIGTERM. The service manager's end is
// tests/lib/notify-listen.py, a Unix datagram socket of the test's.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { after, describe, it } from 'node:test';

import {
	AMQP_URL, SRCDIR, freePort, get, makeTmpDir, sleep, startSluiced,
	waitFor,
} from '../lib/sluiced.mjs';

// SLUICE_SYSTEMD=no: built --without-systemd, nothing is sent.
const skip = process.env.SLUICE_SYSTEMD === 'no' ?
    'sluiced is built without libsystemd' : false;

// Starts the listener at a socket in a temp dir; resolves {path,
// messages (arrays of NAME=VALUE, in order), close()}.
async function notifyListener() {
	const socketPath = path.join(makeTmpDir('sluice-notify'), 'notify');
	const proc = spawn('python3', [path.join(SRCDIR, 'tests', 'lib',
	    'notify-listen.py'), socketPath], { stdio: ['pipe', 'pipe',
	    'inherit'] });
	const messages = [];
	let listening;
	const bound = new Promise((resolve) => { listening = resolve; });
	readline.createInterface({ input: proc.stdout }).on('line', (line) => {
		if (line === 'listening')
			listening();
		else
			messages.push(JSON.parse(line));
	});
	proc.on('exit', () => listening());
	await bound;
	return {
		path: socketPath,
		messages,
		close: () => proc.stdin.end(),
	};
}

// A TCP proxy to the test broker that listens only once started.
function brokerProxy(port) {
	const target = new URL(AMQP_URL);
	const sockets = new Set();
	const server = net.createServer((client) => {
		const upstream = net.connect(Number(target.port || 5672),
		    target.hostname);
		for (const sock of [client, upstream]) {
			sockets.add(sock);
			sock.on('error', () => {
				client.destroy();
				upstream.destroy();
			});
			sock.on('close', () => sockets.delete(sock));
		}
		client.pipe(upstream);
		upstream.pipe(client);
	});
	return {
		url: `${target.protocol}//${target.username}:${target.password}` +
		    `@127.0.0.1:${port}${target.pathname}`,
		start: () => new Promise((resolve) => server.listen(port,
		    '127.0.0.1', resolve)),
		close: () => {
			for (const sock of sockets)
				sock.destroy();
			server.close();
		},
	};
}

// Whether a message carries the line NAME=VALUE.
function says(messages, line) {
	return messages.findIndex((m) => m.includes(line));
}

describe('sd_notify', { skip }, () => {
	const cleanups = [];
	after(() => {
		for (const fn of cleanups)
			fn();
	});

	it('READY=1 once the broker is reached, STOPPING=1 at SIGTERM',
	    async () => {
		const listener = await notifyListener();
		cleanups.push(listener.close);
		const proxy = brokerProxy(await freePort());
		cleanups.push(proxy.close);
		const s = await startSluiced({ name: 'notify',
		    amqpUrl: proxy.url, env: { NOTIFY_SOCKET: listener.path,
		    WATCHDOG_USEC: '400000' } });

		// Up, answering HTTP, but not ready: no READY=1, a status.
		await waitFor(() => says(listener.messages,
		    'STATUS=starting: not connected to the broker') >= 0,
		    { what: 'STATUS=starting: not connected to the broker' });
		await sleep(1500);
		assert.equal(says(listener.messages, 'READY=1'), -1,
		    JSON.stringify(listener.messages));
		assert.equal((await get(`${s.baseUrl}/readyz`)).status, 503);

		// The broker is reachable: READY=1 follows, once.
		await proxy.start();
		await waitFor(() => says(listener.messages, 'READY=1') >= 0,
		    { timeout: 15000, what: 'READY=1' });
		assert.equal((await get(`${s.baseUrl}/readyz`)).status, 200);
		assert.match(s.log(), /not ready yet: not connected to the broker/);

		// The watchdog: WATCHDOG=1 about every 200 ms.
		const pings = () => listener.messages.filter((m) =>
		    m.includes('WATCHDOG=1')).length;
		const before = pings();
		await sleep(1000);
		assert.ok(pings() - before >= 3, `${pings() - before} pings`);

		assert.equal(await s.stop({ signal: 'SIGTERM' }), 0);
		const ready = says(listener.messages, 'READY=1');
		const stopping = says(listener.messages, 'STOPPING=1');
		assert.ok(stopping > ready, JSON.stringify(listener.messages));
		assert.equal(listener.messages.filter((m) =>
		    m.includes('READY=1')).length, 1);
	});

	it('without NOTIFY_SOCKET, nothing is sent and sluiced runs as ever',
	    async () => {
		const listener = await notifyListener();
		cleanups.push(listener.close);
		const s = await startSluiced({ name: 'nonotify',
		    waitReady: true, env: { NOTIFY_SOCKET: '' } });
		await sleep(500);
		assert.equal(await s.stop({ signal: 'SIGTERM' }), 0);
		assert.deepEqual(listener.messages, []);
		assert.doesNotMatch(s.log(), /not ready yet/);
	});
});
