// 08-broker-paused: RabbitMQ stops reading (SIGSTOP: its socket stays open,
// nothing answers) with a backlog of 20,000 events journaled. The forwarder
// must not hang in a send: SIGTERM makes sluiced exit within its
// shutdown_timeout, and once the broker runs again (SIGCONT) a restarted
// sluiced forwards every acknowledged event.
//
// It needs the broker tests/integration/run started (SLUICE_TEST_RABBITMQ_DIR);
// a broker of someone else's is never paused. The broker is resumed
// whatever happens, since later tests need it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { post, sleep, waitFor } from '../lib/sluiced.mjs';
import { brokerSkipReason, makeIds, metric } from './lib.mjs';

const RABBITMQ_DIR = process.env.SLUICE_TEST_RABBITMQ_DIR;
const EVENTS = 20000;
const BATCH = 100;
// Events of about 2 KB with up to 16,384 in flight: 32 MB, far more than
// the socket buffers of both ends hold, so the forwarder's send blocks.
const PAD = 'x'.repeat(1900);
const INFLIGHT = 16384;
const SHUTDOWN_S = 3;
// What exiting "within shutdown_timeout" may take beyond it: the journal's
// last fsync and the process's exit.
const SLACK_MS = 500;

const skip = brokerSkipReason();

function brokerPid() {
	const file = path.join(RABBITMQ_DIR, 'rabbitmq.pid');
	const pid = Number(fs.readFileSync(file, 'utf8'));
	if (!Number.isInteger(pid) || pid <= 1)
		throw new Error(`${file} holds no pid`);
	return pid;
}

function resumeBroker() {
	try {
		process.kill(brokerPid(), 'SIGCONT');
	} catch {
		// not running: the harness reports it
	}
}

const { start, broker } = useSluiced(null, { skip, forceStop: true,
    restoreBroker: async () => resumeBroker() });

test('RabbitMQ paused with a backlog: SIGTERM exits within ' +
    'shutdown_timeout, and nothing is lost', { skip, timeout: 180000 },
    async () => {
	const d = await start({ name: 'fault-paused', waitReady: true,
	    server: { shutdown_timeout: SHUTDOWN_S },
	    amqp: { max_inflight: INFLIGHT },
	    journal: { max_bytes: '256M', segment_bytes: '8M' } });
	await broker.open();
	const ids = makeIds('paused', EVENTS);
	const pid = brokerPid();
	let elapsed;
	process.kill(pid, 'SIGSTOP');
	try {
		// Every event is acknowledged (durable in the journal) while
		// the forwarder fills the socket to a broker that reads nothing.
		for (let i = 0; i < EVENTS; i += BATCH) {
			const batch = ids.slice(i, i + BATCH).map((id, k) => ({
			    event: 'paused', id, data: { i: i + k, pad: PAD } }));
			const r = await post(d.url, batch, { key: d.key });
			assert.equal(r.status, 202, r.text);
		}
		// The forwarder is stuck on a full socket by now.
		await waitFor(async () => await metric(d,
		    'sluice_journal_unconfirmed_records') >= EVENTS - 2 * BATCH,
		    { timeout: 20000, what: 'a backlog in the journal' });
		await sleep(1000);
		const t0 = Date.now();
		const code = await d.stop({ timeout: 30000 });
		elapsed = Date.now() - t0;
		assert.equal(code, 0, `sluiced exited with ${code}; log:\n` +
		    d.log().slice(-2000));
	} finally {
		process.kill(pid, 'SIGCONT');
	}
	assert.ok(elapsed <= SHUTDOWN_S * 1000 + SLACK_MS,
	    `SIGTERM took ${elapsed} ms; shutdown_timeout is ${SHUTDOWN_S} s`);
	// Started again on the same journal with the broker running: every
	// acknowledged event arrives.
	await d.restart();
	const got = await broker.collectIds(d.names.queue, ids,
	    { timeout: 90000 });
	assert.deepEqual(got.missing.length, 0,
	    `${got.missing.length} of ${EVENTS} acknowledged events missing`);
	console.log(`ℹ 08-broker-paused: events=${EVENTS} ` +
	    `sigterm_ms=${elapsed} missing=${got.missing.length}`);
});
