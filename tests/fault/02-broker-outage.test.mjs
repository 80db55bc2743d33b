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
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	brokerOutageTest, brokerSkipReason, startBroker, stopBroker,
} from './lib.mjs';

const OUTAGE_MS = 10000;
const EVENTS_PER_SEC = 1000;
// Posted just before the stop: the forwarder has a backlog to resume.
const BURST = 10000;

const skip = brokerSkipReason();

// The broker goes down in the test: after() starts it again first.
const { s, broker } = useSluiced({ name: 'fault-outage', waitReady: true },
    { skip, forceStop: true, restoreBroker: startBroker });

test('RabbitMQ stopped for 10 s mid-stream: posts get 202, /readyz goes ' +
    '503 and back, every acknowledged event arrives', { skip,
    timeout: 115000 }, async (t) => {
	const { facts, down } = await brokerOutageTest(t, '02-broker-outage',
	    s, broker, { takeDown: stopBroker, outageMs: OUTAGE_MS,
	    eventsPerSec: EVENTS_PER_SEC, burst: BURST, tag: 'outage' });
	assert.ok(facts.acked_during_outage > OUTAGE_MS / 1000 *
	    EVENTS_PER_SEC / 2, `only ${facts.acked_during_outage} events ` +
	    'were acknowledged during the outage');
	assert.ok(facts.unconfirmed_at_restart > 0, 'nothing waited in the ' +
	    'journal during the outage');
	assert.equal(typeof down.reason, 'string', '/readyz gave no reason: ' +
	    down.text);
	assert.match(down.reason, /broker/);
});
