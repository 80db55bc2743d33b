// 06-lifecycle: stopping and restarting. What sluiced acknowledged reaches
// RabbitMQ across SIGTERM, SIGINT, SIGKILL and a broker that was not there;
// requests during the stop get 503; SIGHUP reopens the log.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	closedPortUrl, get, post, sleep, startSluiced, uniqueNames, waitFor,
} from '../lib/sluiced.mjs';

// The tests start and stop daemons of their own, all on these names.
const names = uniqueNames('lifecycle');
const { broker } = useSluiced(null, { names,
    purgeEach: ['queue', 'unrouted'] });

// Posts nreq requests of per events each, concurrently; returns the ids.
async function postMany(s, nreq, per, tag) {
	const replies = await Promise.all(Array.from({ length: nreq }, (_, r) =>
	    post(s.url, Array.from({ length: per }, (_, i) => ({
	    event: tag, data: { r, i } })), { key: s.key })));
	const ids = [];
	for (const r of replies) {
		assert.equal(r.status, 202, r.text);
		ids.push(...r.json.ids);
	}
	return ids;
}

describe('signals', () => {
	it('SIGTERM: exit 0, and everything acknowledged is in RabbitMQ',
	    async () => {
		const s = await startSluiced({ name: 'term', names,
		    waitReady: true });
		const ids = await postMany(s, 20, 25, 'term');
		assert.equal(await s.stop({ signal: 'SIGTERM' }), 0);
		assert.match(s.log(), /SIGTERM received/);
		assert.match(s.log(), /\bstopped\b/);
		// Confirmed before exit: already in the queue, no waiting.
		assert.equal(await broker.count(names.queue), ids.length);
		const got = await broker.collectIds(names.queue, ids,
		    { timeout: 5000 });
		assert.deepEqual(got.missing, []);
		assert.equal(got.others, 0);
	});

	it('SIGINT: exit 0 the same way', async () => {
		const s = await startSluiced({ name: 'int', names, waitReady: true });
		const ids = await postMany(s, 5, 10, 'int');
		assert.equal(await s.stop({ signal: 'SIGINT' }), 0);
		assert.match(s.log(), /SIGINT received/);
		assert.equal(await broker.count(names.queue), ids.length);
	});

	it('requests during the stop get 503 stopping; none is lost',
	    async (t) => {
		const s = await startSluiced({ name: 'stopping', names,
		    waitReady: true });
		const statuses = new Map();
		const ids = [];
		let bad = null;
		let stopped = false;
		// Four clients, each on one keep-alive connection, post until
		// their connection is gone.
		const client = async (c) => {
			const agent = new http.Agent({ keepAlive: true,
			    maxSockets: 1 });
			try {
				for (let n = 0; ; n++) {
					let r;
					try {
						r = await post(s.url, { event: 'race',
						    data: { c, n } }, { key: s.key, agent,
						    timeout: 5000 });
					} catch (e) {
						// The connection closes during the stop.
						if (!stopped)
							bad = { status: e.message, text: '' };
						return;
					}
					statuses.set(r.status,
					    (statuses.get(r.status) || 0) + 1);
					if (r.status === 202)
						ids.push(...r.json.ids);
					else if (r.status === 503) {
						if (r.json?.error !== 'stopping' ||
						    !/^\d+$/.test(r.headers['retry-after']))
							bad = r;
					} else
						bad = r;
				}
			} finally {
				agent.destroy();
			}
		};
		const clients = [0, 1, 2, 3].map(client);
		await waitFor(() => ids.length >= 200, { what: '200 events' });
		stopped = true;
		const code = await s.stop();
		await Promise.all(clients);
		assert.equal(code, 0);
		assert.equal(bad, null, bad && `unexpected reply ${bad.status}: ` +
		    bad.text);
		assert.deepEqual([...statuses.keys()].filter((k) => k !== 202 &&
		    k !== 503), []);
		// Every acknowledged event is in RabbitMQ.
		const got = await broker.collectIds(names.queue, ids,
		    { timeout: 5000 });
		assert.deepEqual(got.missing, []);
		// Requests on open connections after the signal are refused with
		// 503 (each client's last request lands in that window).
		t.diagnostic(`replies: ${JSON.stringify(Object.fromEntries(
		    statuses))}`);
		assert.ok(statuses.get(503) >= 1, 'no 503 during the stop');
	});

	it('SIGHUP reopens the log file', async () => {
		const s = await startSluiced({ name: 'hup', names });
		try {
			const logFile = path.join(s.dir, 'file.log');
			await s.restart({ server: { log_file: logFile } });
			await waitFor(() => fs.existsSync(logFile) &&
			    /ready/.test(fs.readFileSync(logFile, 'utf8')),
			    { what: 'the log file' });
			fs.renameSync(logFile, `${logFile}.1`);
			s.proc.kill('SIGHUP');
			await waitFor(() => fs.existsSync(logFile) &&
			    /log reopened/.test(fs.readFileSync(logFile, 'utf8')),
			    { what: 'a new log file after SIGHUP' });
			// Still serving, and the daemon was not stopped by it.
			assert.equal((await get(`${s.baseUrl}/healthz`)).status, 200);
		} finally {
			assert.equal(await s.stop(), 0);
		}
	});
});

describe('the journal across restarts', () => {
	it('events taken without a broker are forwarded after a restart',
	    async () => {
		const s = await startSluiced({ name: 'nobroker', names,
		    amqpUrl: await closedPortUrl(),
		    server: { shutdown_timeout: 1 } });
		const ids = await postMany(s, 10, 30, 'later');
		assert.equal((await get(`${s.baseUrl}/readyz`)).status, 503);
		assert.equal(await s.stop(), 0);
		assert.match(s.log(), /not confirmed|kept in the journal/);
		// Nothing reached RabbitMQ yet.
		assert.equal(await broker.count(names.queue), 0);

		await s.restart({ amqpUrl: undefined });
		try {
			const got = await broker.collectIds(names.queue, ids,
			    { timeout: 15000 });
			assert.deepEqual(got.missing, []);
			assert.equal(got.others, 0);
		} finally {
			assert.equal(await s.stop(), 0);
		}
	});

	it('events acknowledged just before a SIGKILL arrive after a restart',
	    async () => {
		const s = await startSluiced({ name: 'kill', names,
		    amqpUrl: await closedPortUrl() });
		const ids = await postMany(s, 10, 20, 'killed');
		await s.kill();
		await s.restart({ amqpUrl: undefined });
		try {
			const got = await broker.collectIds(names.queue, ids,
			    { timeout: 15000 });
			assert.deepEqual(got.missing, []);
		} finally {
			assert.equal(await s.stop(), 0);
		}
	});

	it('what was confirmed is not sent again after a restart', async () => {
		const s = await startSluiced({ name: 'once', names,
		    waitReady: true });
		const ids = await postMany(s, 4, 25, 'once');
		const got = await broker.collectIds(names.queue, ids,
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
		assert.equal(await s.stop(), 0);
		await s.restart({}, {});
		try {
			await waitFor(async () => (await get(`${s.baseUrl}/readyz`))
			    .status === 200, { what: 'ready after the restart' });
			await sleep(500);
			assert.equal(await broker.count(names.queue), 0);
		} finally {
			assert.equal(await s.stop(), 0);
		}
	});
});
