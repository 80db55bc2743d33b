// 05-broker-kill: like 02, but RabbitMQ is SIGKILLed mid-stream (not
// stopped politely) with many publishes in flight, and started again 3 s
// later. A broker killed so loses whatever it received but had not yet
// confirmed; sluiced must publish those again, since its checkpoint may only
// move over confirmed messages. Every acknowledged event must arrive.
//
// It needs the broker tests/integration/run started (SLUICE_TEST_RABBITMQ_DIR
// and _PORT); a broker of someone else's is never killed. The broker is
// started again whatever happens, since later tests need it.

import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	brokerOutageTest, brokerSkipReason, killBroker, startBroker,
} from './lib.mjs';

const OUTAGE_MS = 3000;
const EVENTS_PER_SEC = 1000;
// Posted just before the kill: the forwarder is busy with many publishes
// in flight when the broker dies.
const BURST = 20000;

const skip = brokerSkipReason();

// The broker goes down in the test: after() starts it again first.
const { s, broker } = useSluiced({ name: 'fault-brokerkill', waitReady: true },
    { skip, forceStop: true, restoreBroker: startBroker });

test('RabbitMQ SIGKILLed mid-stream: every acknowledged event arrives',
    { skip, timeout: 100000 }, async (t) => {
	await brokerOutageTest(t, '05-broker-kill', s, broker,
	    { takeDown: killBroker, outageMs: OUTAGE_MS,
	    eventsPerSec: EVENTS_PER_SEC, burst: BURST, tag: 'brokerkill' });
});
