// 10-power-loss: what a power loss leaves, not only what SIGKILL leaves
// (SIGKILL keeps the page cache: a missing fsync never shows there). sluiced
// runs with the shim tests/fault/powerloss.so preloaded, which follows every
// write, sync, rename and unlink in the journal directory. A client posts
// (paced); at a random moment the test touches the trigger file, and the
// shim, at once or (one time in two) right after one of the next few
// writes or changes of names, cuts the directory back to what a disk would
// hold (each file its synced bytes plus a random, maybe torn, prefix of
// what was written since; names not covered by a directory fsync gone or
// back) and SIGKILLs the daemon. The next iteration starts it again
// (recovery runs under the shim too); the first one starts on a journal
// directory that does not exist yet. After the last cut sluiced starts without the shim, and every
// event acknowledged in any iteration must reach RabbitMQ: lost == 0;
// duplicates are counted and reported.
//
// Environment: SLUICE_POWERLOSS_ITERATIONS (default 30),
// SLUICE_POWERLOSS_SO (default: tests/fault/powerloss.so next to sluiced;
// "make check" builds it, or "make tests/fault/powerloss.so").

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { SLUICED, makeTmpDir, sleep } from '../lib/sluiced.mjs';
import {
	RetryingClient, assertNothingLost, collectTally, makeBatches, makeIds,
	randomInt, recoveries, report,
} from './lib.mjs';

const ITERATIONS = Number(process.env.SLUICE_POWERLOSS_ITERATIONS || 30);
const SHIM = process.env.SLUICE_POWERLOSS_SO ||
    path.join(path.dirname(SLUICED), 'tests', 'fault', 'powerloss.so');
const SKIP = fs.existsSync(SHIM) ? false : `no shim at ${SHIM} (build ` +
    'it with "make tests/fault/powerloss.so" or set SLUICE_POWERLOSS_SO)';

const base = makeTmpDir('sluice-powerloss');
const journalDir = path.join(base, 'journal');
const trigger = path.join(base, 'cut');

// The environment of a run under the shim; iteration i seeds its prefixes.
function shimEnv(i) {
	return {
		LD_PRELOAD: SHIM,
		POWERLOSS_DIR: journalDir,
		POWERLOSS_TRIGGER: trigger,
		POWERLOSS_SEED: String(Date.now() + i),
		// A sanitizer build wants its runtime first; the shim is first.
		ASAN_OPTIONS: 'verify_asan_link_order=0:' +
		    (process.env.ASAN_OPTIONS || ''),
	};
}

// Small segments, so the cuts also find rolls, checkpoints and deletions;
// a narrow publish window on odd iterations keeps a backlog of unconfirmed
// records in the journal (the pace of the client keeps it bounded).
function amqpFor(i) {
	return { max_inflight: i % 2 ? 8 : 256 };
}
const EVENTS_PER_SEC = 8000;

const { s, broker } = useSluiced(SKIP ? null : { name: 'fault-powerloss',
    waitReady: true, journalDir, env: shimEnv(0), amqp: amqpFor(0),
    journal: { segment_bytes: '64K', max_bytes: '64M' } },
    { forceStop: true, skip: SKIP });

// What the shim's "powerloss:" lines in the daemon log say, summed.
function cuts(log) {
	const c = { cuts: 0, afterChange: 0, dirGone: 0, kept: 0, torn: 0,
	    dropped: 0, removed: 0, restored: 0 };
	for (const line of log.split('\n')) {
		if (!line.startsWith('powerloss: '))
			continue;
		c.cuts++;
		if (/, right after a write/.test(line))
			c.afterChange++;
		if (/ gone \(/.test(line))
			c.dirGone++;
		const m = line.match(/kept (\d+), torn (\d+), dropped (\d+); (\d+) names made since the directory's fsync removed, (\d+) restored/);
		if (m) {
			c.kept += Number(m[1]);
			c.torn += Number(m[2]);
			c.dropped += Number(m[3]);
			c.removed += Number(m[4]);
			c.restored += Number(m[5]);
		}
	}
	return c;
}

// One iteration: posts from a fresh client (at most EVENTS_PER_SEC) for a
// random while, cuts the power and waits for the daemon to die. Returns
// the client.
async function iteration(i) {
	const ids = makeIds(`pl${i}`, 200000);
	let next = 0;
	const client = new RetryingClient({ url: s.url, key: s.key,
	    concurrency: 4, eventsPerSec: EVENTS_PER_SEC, retryMs: [20, 100],
	    timeout: 5000 });
	const run = client.run(() => {
		if (next >= ids.length)
			return null;
		const b = makeBatches(ids.slice(next, next + 50),
		    () => randomInt(1, 50), 'fault_powerloss')[0];
		next += b.length;
		return b;
	}, { deadline: Date.now() + 30000 }).then(() => null, (e) => e);
	await sleep(randomInt(150, 1200));
	fs.writeFileSync(trigger, '');
	const code = await Promise.race([s.exited, sleep(10000).then(
	    () => 'timeout')]);
	client.stop();
	const err = await run;
	fs.rmSync(trigger, { force: true });
	assert.equal(code, 'SIGKILL', `iteration ${i}: the shim did not cut ` +
	    `the power (sluiced: ${code})`);
	// Requests cut off by the kill fail; anything else is a test bug.
	if (err && !/deadline/.test(err.message))
		throw err;
	await s.kill();
	return client;
}

test(`${ITERATIONS} power losses under load: every acknowledged event ` +
    'arrives', { skip: SKIP, timeout: 240000 }, async (t) => {
	const t0 = Date.now();
	const acked = new Set();
	const attempted = new Set();
	const ackedPer = [];
	for (let i = 0; i < ITERATIONS; i++) {
		if (i > 0)
			await s.restart({ env: shimEnv(i), amqp: amqpFor(i) });
		const client = await iteration(i);
		for (const id of client.acked)
			acked.add(id);
		for (const id of client.attempted)
			attempted.add(id);
		ackedPer.push(client.acked.size);
	}
	assert.ok(acked.size > 0, 'no event was acknowledged');

	// Recovery without the shim, then the tally.
	await s.restart({ env: {}, amqp: amqpFor(0) });
	const log = s.log();
	const { r, drained } = await collectTally(s, broker,
	    { acked, attempted });
	const rec = recoveries(log);
	const c = cuts(log);
	const lostPer = new Map();
	for (const id of r.lost) {
		const it = id.replace(/-.*/, '');
		lostPer.set(it, (lostPer.get(it) || 0) + 1);
	}
	report(t, '10-power-loss', r, {
		iterations: ITERATIONS,
		cuts: c.cuts,
		cuts_right_after_a_change: c.afterChange,
		journal_dir_gone: c.dirGone,
		unsynced_bytes_kept: c.kept,
		torn_bytes_kept: c.torn,
		unsynced_bytes_dropped: c.dropped,
		names_removed: c.removed,
		names_restored: c.restored,
		acked_per_iteration: ackedPer.join(','),
		lost_by_iteration: [...lostPer].map(([k, v]) => `${k}=${v}`).
		    join(',') || 'none',
		recovered_records: rec.records,
		torn_bytes_cut: rec.tornBytes,
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assert.equal(c.cuts, ITERATIONS, 'a cut is missing from the log');
	assert.ok(!fs.existsSync(path.join(journalDir, 'corrupt')), 'a power ' +
	    'loss was reported as corruption');
	assertNothingLost(s, r, drained);
});
