// 02-broker-outage: events are posted continuously; mid-stream, right after
// a burst that leaves the forwarder a backlog, RabbitMQ is stopped
// (tools/rabbitmq-node stop) for 10 s while posting goes on. Every
// post must still get 202 (the journal absorbs them), /readyz must say 503
// with a reason during the outage and 200 again once the broker is back, and
// every acknowledged event must arrive: lost == 0, duplicates counted.
//
// It needs the broker tests/integration/run started (SLUICE_TEST_RABBITMQ_DIR
// and _PORT); a broker of someone else's is never stopped. The broker is
// started again whatever happens, since later tests need it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connect } from '../lib/amqp.mjs';
import { startSluiced } from '../lib/sluiced.mjs';
import {
	brokerOutage, brokerSkipReason, consumeAll, report, startBroker,
	stopBroker, tally, waitDrained,
} from './lib.mjs';

const OUTAGE_MS = 10000;
const EVENTS_PER_SEC = 1000;
// Posted just before the stop: the forwarder has a backlog to resume.
const BURST = 10000;

const skip = brokerSkipReason();

let s;
let broker;

before(async () => {
	if (skip)
		return;
	s = await startSluiced({ name: 'fault-outage', waitReady: true });
});

after(async () => {
	if (skip)
		return;
	// Whatever happened, the next tests need the broker.
	await startBroker();
	if (s)
		await s.stop().catch(() => s.kill());
	if (!broker)
		broker = await connect();
	if (s)
		await broker.deleteTopology(s.names);
	await broker.close();
});

test('RabbitMQ stopped for 10 s mid-stream: posts get 202, /readyz goes ' +
    '503 and back, every acknowledged event arrives', { skip,
    timeout: 115000 }, async (t) => {
	const t0 = Date.now();
	const { acked, attempted, failures, down, facts } =
	    await brokerOutage(s, { takeDown: stopBroker, outageMs: OUTAGE_MS,
	    eventsPerSec: EVENTS_PER_SEC, burst: BURST, tag: 'outage' });
	assert.equal(failures, '', 'posts failed although only the broker ' +
	    'was down');
	assert.ok(facts.acked_during_outage > OUTAGE_MS / 1000 *
	    EVENTS_PER_SEC / 2, `only ${facts.acked_during_outage} events ` +
	    'were acknowledged during the outage');
	assert.ok(facts.unconfirmed_at_restart > 0, 'nothing waited in the ' +
	    'journal during the outage');

	// Collected and reported even if the journal never drains.
	const drained = await waitDrained(s, { timeout: 30000 }).then(
	    () => null, (e) => e);
	broker = await connect();
	const messages = await consumeAll(broker, s.names.queue, acked,
	    { timeout: 30000, quiet: 1000 });
	const r = tally({ acked, attempted, messages });
	report(t, '02-broker-outage', r, {
		...facts,
		readyz_reason: JSON.stringify(down.reason),
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assert.equal(typeof down.reason, 'string', '/readyz gave no reason: ' +
	    down.text);
	assert.match(down.reason, /broker/);
	if (drained)
		throw drained;
	assert.equal(r.lost.length, 0, `${r.lost.length} acknowledged events ` +
	    `lost, e.g. ${r.lost.slice(0, 5).join(' ')}`);
	assert.deepEqual(r.unexpected, []);
	assert.deepEqual(r.malformed, []);
	assert.equal(r.recovered, 0, 'every post was answered');
	assert.equal(s.exitCode, undefined, 'sluiced died on its own');
});
