// 04-kill-during-forwarding: events are acknowledged with the broker up;
// sluiced is SIGKILLed while its forwarder is part way through them (the
// broker confirmed some, the journal still holds unconfirmed records) and
// started again on the same journal: every event arrives, duplicates allowed
// and counted.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { metrics, waitFor } from '../lib/sluiced.mjs';
import {
	RetryingClient, assertNothingLost, collectTally, makeBatches, makeIds,
	recoveries, report,
} from './lib.mjs';

const EVENTS = 10000;
const ACKS = 'sluice_amqp_confirms_total{outcome="ack"}';
const UNCONFIRMED = 'sluice_journal_unconfirmed_records';

// A narrow publish window keeps the forwarder busy for a while.
const { s, broker } = useSluiced({ name: 'fault-fwdkill', waitReady: true,
    amqp: { max_inflight: 16 } }, { forceStop: true });

test('SIGKILL while forwarding: every event arrives after the restart',
    { timeout: 100000 }, async (t) => {
	const t0 = Date.now();
	const ids = makeIds('fwdkill', EVENTS);
	const batches = makeBatches(ids, () => 500, 'fault_fwdkill');
	let next = 0;
	const client = new RetryingClient({ url: s.url, key: s.key,
	    concurrency: 4 });
	await client.run(() => next < batches.length ? batches[next++] : null,
	    { deadline: Date.now() + 30000 });
	assert.equal(client.acked.size, EVENTS);
	assert.equal(client.failureCount(), 0, 'posting with nothing wrong ' +
	    `failed: ${client.failureSummary()}`);

	// Kill once the broker confirmed some but far from all.
	const at = await waitFor(async () => {
		const m = await metrics(s);
		return m.get(ACKS) >= EVENTS / 5 || m.get(UNCONFIRMED) === 0 ?
		    m : null;
	}, { timeout: 30000, interval: 10, what: 'the forwarder under way' });
	await s.kill();
	const acksAtKill = at.get(ACKS);
	const unconfirmedAtKill = at.get(UNCONFIRMED);
	assert.ok(unconfirmedAtKill > 0, 'the forwarder finished before the ' +
	    'kill; nothing was left to recover');

	await s.restart({ waitReady: true });
	const rec = recoveries(s.log());
	assert.ok(rec.records > 0, 'the restart recovered no unconfirmed ' +
	    'record');
	const { r, drained } = await collectTally(s, broker, client);
	report(t, '04-kill-during-forwarding', r, {
		acks_at_kill: acksAtKill,
		unconfirmed_at_kill: unconfirmedAtKill,
		recovered_records: rec.records,
		torn_bytes_cut: rec.tornBytes,
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assertNothingLost(s, r, drained);
});
