// 05-broker-kill: like 02, but RabbitMQ is SIGKILLed mid-stream (not
// stopped politely) with many publishes in flight, and started again 3 s
// later. A broker killed so loses whatever it received but had not yet
// confirmed; sluiced must publish those again, since its checkpoint may only
// move over confirmed messages. Every acknowledged event must arrive.
//
// It needs the broker tests/integration/run started (SLUICE_TEST_RABBITMQ_DIR
// and _PORT); a broker of someone else's is never killed. The broker is
// started again whatever happens, since later tests need it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connect } from '../lib/amqp.mjs';
import { startSluiced } from '../lib/sluiced.mjs';
import {
	brokerOutage, brokerSkipReason, consumeAll, killBroker, report,
	startBroker, tally, waitDrained,
} from './lib.mjs';

const OUTAGE_MS = 3000;
const EVENTS_PER_SEC = 1000;
// Posted just before the kill: the forwarder is busy with many publishes
// in flight when the broker dies.
const BURST = 20000;

const skip = brokerSkipReason();

let s;
let broker;

before(async () => {
	if (skip)
		return;
	s = await startSluiced({ name: 'fault-brokerkill', waitReady: true });
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

test('RabbitMQ SIGKILLed mid-stream: every acknowledged event arrives',
    { skip, timeout: 100000 }, async (t) => {
	const t0 = Date.now();
	const { acked, attempted, failures, down, facts } =
	    await brokerOutage(s, { takeDown: killBroker, outageMs: OUTAGE_MS,
	    eventsPerSec: EVENTS_PER_SEC, burst: BURST, tag: 'brokerkill' });
	assert.equal(failures, '', 'posts failed although only the broker ' +
	    'was down');

	// Collected and reported even if the journal never drains.
	const drained = await waitDrained(s, { timeout: 30000 }).then(
	    () => null, (e) => e);
	broker = await connect();
	const messages = await consumeAll(broker, s.names.queue, acked,
	    { timeout: 30000, quiet: 1000 });
	const r = tally({ acked, attempted, messages });
	report(t, '05-broker-kill', r, {
		...facts,
		readyz_reason: JSON.stringify(down.reason),
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	if (drained)
		throw drained;
	assert.equal(r.lost.length, 0, `${r.lost.length} acknowledged events ` +
	    `lost, e.g. ${r.lost.slice(0, 5).join(' ')}`);
	assert.deepEqual(r.unexpected, []);
	assert.deepEqual(r.malformed, []);
	assert.equal(r.recovered, 0, 'every post was answered');
	assert.equal(s.exitCode, undefined, 'sluiced died on its own');
});
