// 03-journal-full: a small journal (64K segments, 256K in all) and a broker
// that cannot be reached. Posting fills the journal until sluiced answers
// 503 journal_full with Retry-After; a refused request must leave nothing in
// the journal (none of its ids may ever arrive). Restarted on the same
// journal with the real broker, sluiced forwards every acknowledged event
// (lost == 0), deletes the confirmed segments and takes events again.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { closedPortUrl, post, waitFor } from '../lib/sluiced.mjs';
import {
	assertNothingLost, consumeAll, makeBatches, makeIds, metric, readyz,
	report, tally, waitDrained,
} from './lib.mjs';

const SEGMENT_BYTES = 64 * 1024;
const MAX_BYTES = 256 * 1024;
const BATCH = 20;
const CONCURRENCY = 4;

const { s, broker } = useSluiced({ name: 'fault-full',
    amqpUrl: await closedPortUrl(),
    journal: { segment_bytes: '64K', max_bytes: '256K' },
    server: { shutdown_timeout: 1 } }, { forceStop: true });

// Checks a 503 is the journal_full refusal: Retry-After and a JSON body.
function assertJournalFull(r) {
	assert.equal(r.status, 503);
	assert.match(String(r.headers['retry-after']), /^[1-9][0-9]*$/,
	    'a 503 needs a Retry-After in seconds');
	assert.ok(r.json, `the 503 body is not JSON: ${r.text}`);
	assert.equal(r.json.error, 'journal_full');
	assert.equal(typeof r.json.message, 'string');
	assert.ok(r.json.message.length > 0);
}

test('a full journal answers 503, keeps all or nothing of a request, ' +
    'and loses nothing', { timeout: 100000 }, async (t) => {
	const t0 = Date.now();
	const ids = makeIds('full', 4000);
	// Batches of 20, then single events to fill what is left, then
	// batches again (all refused by then).
	const batches = [
	    ...makeBatches(ids.slice(0, 3000), () => BATCH, 'fault_full'),
	    ...makeBatches(ids.slice(3000, 3500), () => 1, 'fault_full'),
	    ...makeBatches(ids.slice(3500), () => BATCH, 'fault_full')];
	const acked = new Set();
	const refused = new Set();
	const attempted = new Set();
	let firstRefusal = -1;	// index of the first batch refused
	let refusedBatches = 0;
	let singlesRefused = 0;

	// Posts batches i .. i+CONCURRENCY-1 at once (racing near the limit).
	for (let i = 0; i < batches.length; i += CONCURRENCY) {
		const group = batches.slice(i, i + CONCURRENCY);
		const replies = await Promise.all(group.map((b) => {
			for (const e of b)
				attempted.add(e.id);
			return post(s.url, b, { key: s.key });
		}));
		replies.forEach((r, k) => {
			const b = group[k];
			if (r.status === 202) {
				assert.deepEqual(r.json.ids,
				    b.map((e) => e.id));
				for (const e of b)
					acked.add(e.id);
				return;
			}
			assert.equal(r.status, 503, 'expected 202 or 503, ' +
			    `got ${r.status}: ${r.text}`);
			assertJournalFull(r);
			for (const e of b)
				refused.add(e.id);
			refusedBatches++;
			if (b.length === 1)
				singlesRefused++;
			if (firstRefusal === -1)
				firstRefusal = i + k;
		});
	}
	assert.ok(firstRefusal > 0, 'the journal never filled, or was full ' +
	    'from the start');
	assert.ok(singlesRefused > 0, 'single events still fitted at the end');
	assert.ok(acked.size > 0);
	// The last batches came when even single events did not fit.
	for (const e of batches[batches.length - 1])
		assert.ok(refused.has(e.id), 'a batch after the journal ' +
		    'filled was accepted');

	const bytesFull = await metric(s, 'sluice_journal_bytes');
	assert.ok(bytesFull <= MAX_BYTES, `journal at ${bytesFull} bytes, ` +
	    `over its limit of ${MAX_BYTES}`);
	assert.ok(bytesFull > MAX_BYTES - 2048, 'a single small event was ' +
	    `refused with the journal at ${bytesFull} of ${MAX_BYTES} bytes`);
	// Exactly the acknowledged events are journaled: nothing of a
	// refused request.
	assert.equal(await metric(s, 'sluice_journal_unconfirmed_records'),
	    acked.size, 'the journal holds other records than the ' +
	    'acknowledged ones: a 503 was not all or nothing');
	assert.ok(await metric(s,
	    'sluice_events_rejected_total{reason="journal_full"}') >=
	    refused.size);
	const ready = await readyz(s);
	assert.equal(ready.status, 503, `/readyz answered ${ready.status} ` +
	    'with the journal full');
	assert.equal(ready.reason, 'the journal is full', `/readyz gave ` +
	    `another reason: ${ready.text}`);
	assert.equal(await metric(s, 'sluice_journal_full'), 1);

	// The real broker now, on the same journal.
	await s.restart({ amqpUrl: null, waitReady: true });
	await waitDrained(s, { timeout: 30000 });
	// The checkpoint is persisted a moment later, then segments go.
	const bytesDrained = await waitFor(async () => {
		const b = await metric(s, 'sluice_journal_bytes');
		return b <= SEGMENT_BYTES ? { b } : null;
	}, { timeout: 15000, what: 'journal bytes down to one segment' });
	const segments = await metric(s, 'sluice_journal_segments');
	assert.ok(segments <= 1, `${segments} segments left after draining`);

	const messages = await consumeAll(broker, s.names.queue, acked,
	    { timeout: 30000, quiet: 1000 });
	const r = tally({ acked, attempted, refused, messages });

	// New events are taken again and arrive.
	const more = makeIds('full-after', BATCH);
	const reply = await post(s.url, makeBatches(more, () => BATCH,
	    'fault_full')[0], { key: s.key });
	assert.equal(reply.status, 202, `after the drain: ${reply.status} ` +
	    reply.text);
	const after = await consumeAll(broker, s.names.queue, more,
	    { timeout: 15000, quiet: 200 });
	const r2 = tally({ acked: more, messages: after });

	report(t, '03-journal-full', r, {
		refused: refused.size,
		refused_requests: refusedBatches,
		journal_bytes_full: bytesFull,
		journal_bytes_drained: bytesDrained.b,
		readyz_reason: JSON.stringify(ready.reason),
		lost_after: r2.lost.length,
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assertNothingLost(s, r);
	assert.deepEqual(r.resurrected, [], 'events of requests refused with ' +
	    '503 arrived: the refusal was not all or nothing');
	assert.equal(r.recovered, 0);
	assert.equal(r2.lost.length, 0, 'events posted after the drain lost');
	assert.deepEqual(r2.malformed, []);
	assert.equal((await readyz(s)).status, 200);
});
