// 20-amqps: the forwarder over TLS (amqps://) to a RabbitMQ node of the
// test's own with a TLS listener and a certificate made here by a CA made
// here: with that CA every event arrives; with another CA the connection
// is refused (the certificate does not verify) and /readyz says so; -t
// checks the URL's TLS parameters.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import amqplib from 'amqplib';

import { rabbitmqNodeAsync } from '../fault/lib.mjs';
import {
	freePort, get, makeTmpDir, post, RABBITMQ_NODE, runSluiced,
	startSluiced, waitFor,
} from '../lib/sluiced.mjs';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = haveOpenssl ? false : 'openssl is not installed';

function openssl(args, cwd) {
	execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

// A CA in dir/NAME-ca.pem (key NAME-ca.key).
function makeCa(dir, name) {
	openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
	    '-subj', `/CN=${name} test CA`, '-keyout', `${name}-ca.key`,
	    '-out', `${name}-ca.pem`], dir);
}

// ca.pem, server.pem (for localhost and 127.0.0.1, signed by "good") and
// server.key, as tools/rabbitmq-node wants them; and another CA, "other".
function makeCerts(dir) {
	makeCa(dir, 'good');
	makeCa(dir, 'other');
	fs.writeFileSync(path.join(dir, 'san.ext'),
	    'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
	openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj',
	    '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'],
	    dir);
	openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'good-ca.pem',
	    '-CAkey', 'good-ca.key', '-CAcreateserial', '-days', '2',
	    '-extfile', 'san.ext', '-out', 'server.pem'], dir);
	fs.copyFileSync(path.join(dir, 'good-ca.pem'), path.join(dir,
	    'ca.pem'));
}

describe('amqps', { skip }, () => {
	let dir;
	let nodeDir;
	let port;
	let tlsPort;
	const daemons = [];

	before(async () => {
		dir = makeTmpDir('sluice-amqps');
		makeCerts(dir);
		nodeDir = path.join(dir, 'node');
		port = Number(execFileSync(RABBITMQ_NODE, ['free-port'],
		    { encoding: 'utf8' }).trim());
		do
			tlsPort = await freePort();
		while (tlsPort === port);
		process.env.RABBITMQ_NODE_TLS = `${tlsPort}:${dir}`;
		try {
			await rabbitmqNodeAsync(['start', nodeDir, String(port)]);
		} finally {
			delete process.env.RABBITMQ_NODE_TLS;
		}
	});

	after(async () => {
		for (const d of daemons)
			await d.stop().catch(() => {});
		if (nodeDir)
			await rabbitmqNodeAsync(['stop', nodeDir]).catch(() => {});
		if (dir)
			fs.rmSync(dir, { recursive: true, force: true });
	});

	const url = (ca) => `amqps://guest:guest@localhost:${tlsPort}` +
	    `?cacertfile=${path.join(dir, ca)}`;

	it('forwards every event over TLS with the CA that signed the broker',
	    async () => {
		const d = await startSluiced({ name: 'amqps', waitReady: true,
		    amqpUrl: url('good-ca.pem') });
		daemons.push(d);
		const ids = [];
		for (let i = 0; i < 20; i++) {
			const batch = Array.from({ length: 50 }, () => ({
			    id: randomUUID(), event: 'tls', channel: 'events' }));
			const r = await post(d.url, batch, { key: d.key });
			assert.equal(r.status, 202, r.text);
			ids.push(...batch.map((e) => e.id));
		}
		// Read back through the node's plain listener.
		const conn = await amqplib.connect(
		    `amqp://guest:guest@127.0.0.1:${port}`);
		try {
			const ch = await conn.createChannel();
			const want = new Set(ids);
			await waitFor(async () => {
				for (;;) {
					const m = await ch.get(d.names.queue,
					    { noAck: true });
					if (!m)
						break;
					want.delete(m.properties.messageId);
				}
				return want.size === 0;
			}, { timeout: 30000, what: 'every event in the queue' });
		} finally {
			await conn.close();
		}
		assert.match(d.log(), /connected to localhost:\d+/);
	});

	it('refuses a broker whose certificate another CA signed', async () => {
		const d = await startSluiced({ name: 'amqps-bad',
		    amqpUrl: url('other-ca.pem') });
		daemons.push(d);
		await waitFor(() => /cannot connect to localhost:\d+ \(TLS\)/
		    .test(d.log()), { timeout: 20000,
		    what: 'a TLS failure in the log' });
		const r = await get(`${d.baseUrl}/readyz`);
		assert.equal(r.status, 503);
		assert.match(r.json.reason, /not connected to the broker/);
		// Acknowledged all the same: the journal holds it.
		const p = await post(d.url, { event: 'kept', channel: 'events' },
		    { key: d.key });
		assert.equal(p.status, 202);
	});

	it('-t checks the TLS parameters of the URL', () => {
		const conf = (u) => {
			const f = path.join(dir, `t-${randomUUID()}.conf`);
			fs.writeFileSync(f, `[amqp]\nurl = ${u}\n[app a]\n` +
			    'key = key-aaaa-0001\nsecret = secret-aaaa-aaaa-0001\n');
			return f;
		};
		let r = runSluiced(['-t', '-c', conf(url('good-ca.pem'))]);
		assert.equal(r.status, 0, r.stderr);
		assert.match(r.stdout, /configuration OK/);
		r = runSluiced(['-t', '-c', conf(url('missing.pem'))]);
		assert.equal(r.status, 1);
		assert.match(r.stderr, /:2: \[amqp\] url: cacertfile .*missing\.pem cannot be read/);
		r = runSluiced(['-t', '-c',
		    conf(`amqp://guest:guest@localhost:${port}?verify=verify_none`)]);
		assert.equal(r.status, 1);
		assert.match(r.stderr, /TLS parameters need an amqps:\/\/ URL/);
	});
});
