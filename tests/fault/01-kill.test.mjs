// 01-kill: a client posts 20,000 events (each with its own id, in batches,
// several requests at once) while sluiced is SIGKILLed at random moments and
// started again on the same journal and port. The client retries every
// failed request with the same ids until a 202 acknowledges it. Afterwards
// every acknowledged id must be in RabbitMQ: lost == 0; duplicates are
// allowed (delivery is at least once), counted and reported.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connect } from '../lib/amqp.mjs';
import { startSluiced } from '../lib/sluiced.mjs';
import {
	RetryingClient, consumeAll, killRepeatedly, makeBatches, makeIds,
	metric, randomInt, recoveries, report, tally, waitDrained,
} from './lib.mjs';

const EVENTS = 20000;
const KILLS = 5;
// Paced so the posting outlasts the kills (5 x 0.3-1.5 s plus restarts).
const EVENTS_PER_SEC = 2000;
const MAX_INFLIGHT = 1;
const UNCONFIRMED = 'sluice_journal_unconfirmed_records';

let s;
let broker;

before(async () => {
	broker = await connect();
	// A publish window of one keeps the forwarder behind the client, so
	// the kills find a backlog of unconfirmed records in the journal, not
	// only a few publishes in flight.
	s = await startSluiced({ name: 'fault-kill', waitReady: true,
	    amqp: { max_inflight: MAX_INFLIGHT } });
});

after(async () => {
	if (s)
		await s.stop().catch(() => s.kill());
	if (broker) {
		if (s)
			await broker.deleteTopology(s.names);
		await broker.close();
	}
});

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

	// Collected and reported even if the journal never drains.
	const drained = await waitDrained(s, { timeout: 30000 }).then(
	    () => null, (e) => e);
	const messages = await consumeAll(broker, s.names.queue, client.acked,
	    { timeout: 30000, quiet: 1000 });
	const r = tally({ acked: client.acked, attempted: client.attempted,
	    messages });
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
	if (drained)
		throw drained;
	assert.equal(r.lost.length, 0, `${r.lost.length} acknowledged events ` +
	    `lost, e.g. ${r.lost.slice(0, 5).join(' ')}`);
	assert.deepEqual(r.unexpected, [], 'events nobody sent arrived');
	assert.deepEqual(r.malformed, [], 'messages whose body is not JSON ' +
	    'or whose message_id is not the envelope id');
	assert.equal(s.exitCode, undefined, 'sluiced died on its own');
});
