// 01-kill: a client posts 20,000 events (each with its own id, in batches,
// several requests at once) while sluiced is SIGKILLed at random moments and
// started again on the same journal and port. The client retries every
// failed request with the same ids until a 202 acknowledges it. Afterwards
// every acknowledged id must be in RabbitMQ: lost == 0; duplicates are
// allowed (delivery is at least once), counted and reported.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	RetryingClient, assertNothingLost, collectTally, killRepeatedly,
	makeBatches, makeIds, metric, randomInt, recoveries, report,
} from './lib.mjs';

const EVENTS = 20000;
const KILLS = 5;
// Paced so the posting outlasts the kills (5 x 0.3-1.5 s plus restarts).
const EVENTS_PER_SEC = 2000;
const MAX_INFLIGHT = 1;
const UNCONFIRMED = 'sluice_journal_unconfirmed_records';

// A publish window of one keeps the forwarder behind the client, so the
// kills find a backlog of unconfirmed records in the journal, not only a
// few publishes in flight.
const { s, broker } = useSluiced({ name: 'fault-kill', waitReady: true,
    amqp: { max_inflight: MAX_INFLIGHT } }, { forceStop: true });

test(`${EVENTS} events, ${KILLS} SIGKILLs: every acknowledged event ` +
    'arrives', { timeout: 115000 }, async (t) => {
	const t0 = Date.now();
	const ids = makeIds('kill', EVENTS);
	const batches = makeBatches(ids, () => randomInt(1, 50), 'fault_kill');
	let next = 0;
	let clientDone = false;
	const client = new RetryingClient({ url: s.url, key: s.key,
	    concurrency: 6, eventsPerSec: EVENTS_PER_SEC, retryMs: [50, 300] });
	const clientRun = client.run(() => next < batches.length ?
	    batches[next++] : null, { deadline: t0 + 45000 }).then(
	    () => null, (e) => e).finally(() => {
		clientDone = true;
	});

	let kills;
	try {
		kills = await killRepeatedly(s, { kills: KILLS, minMs: 300,
		    maxMs: 1500, downMs: 200, until: () => clientDone,
		    sample: () => metric(s, UNCONFIRMED).catch(() => NaN) });
	} catch (e) {
		// sluiced did not come back: no use posting on.
		client.stop();
		await clientRun;
		throw e;
	}
	const clientErr = await clientRun;
	const postedMs = Date.now() - t0;
	if (clientErr)
		throw clientErr;
	assert.equal(kills.times.length, KILLS, `only ${kills.times.length} ` +
	    `kills happened while the client was posting (it took ` +
	    `${postedMs} ms)`);
	assert.equal(client.acked.size, EVENTS);
	assert.ok(kills.samples.some((n) => n > 0), 'no kill found ' +
	    'unconfirmed records in the journal');
	assert.ok(client.failureCount() > 0, 'the kills should have failed ' +
	    'some requests');
	assert.equal(s.exitCode, undefined, 'sluiced died on its own');

	const { r, drained } = await collectTally(s, broker, client);
	const rec = recoveries(s.log());
	report(t, '01-kill', r, {
		kills: KILLS,
		kill_ms: kills.times.join(','),
		unconfirmed_at_kills: kills.samples.join(','),
		requests: client.requests,
		failed_requests: client.failureSummary().replace(/ /g, ','),
		recovered_records: rec.records,
		torn_bytes_cut: rec.tornBytes,
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assertNothingLost(s, r, drained);
});
