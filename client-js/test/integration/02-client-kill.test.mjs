// 02-client-kill: the browser client (client-js) tracks 2,400 events while
// sluiced is SIGKILLed twice mid-stream and started again on the same
// journal and ports. Every tracked event must be acknowledged and arrive in
// RabbitMQ (lost == 0); duplicates are allowed only with the same id (a
// batch sent again): they are counted and printed, and no message may carry
// an id that was not tracked or data that is not its event's.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { useSluiced } from '../../../tests/lib/amqp.mjs';
import { sleep, waitFor } from '../../../tests/lib/sluiced.mjs';
import { client } from './lib.mjs';

const EVENTS = 2400;
const PER_TICK = 12;		// events tracked every TICK_MS
const TICK_MS = 25;		// about 480 events/s, under publish_rate
const KILL_AT = [600, 1500];	// kill when this many were tracked
const DOWN_MS = 400;		// how long sluiced stays dead

const { s, broker } = useSluiced({ name: 'cjs-kill', waitWs: true,
    waitReady: true }, { forceStop: true });

test('sluiced killed and restarted mid-stream: every event arrives',
    async (t) => {
	const run = randomBytes(4).toString('hex');
	const c = client(s, { batchSize: 40, flushInterval: 20, ackTimeout: 4000,
	    connectTimeout: 2000, maxQueue: 10000 });
	const states = [];
	c.on('state', (st) => states.push(st));
	const tracked = [];
	const restarts = [];
	try {
		await waitFor(() => c.state === 'connected', { what: 'connected' });
		for (let i = 0; i < EVENTS; i++) {
			if (KILL_AT.includes(i)) {
				await s.kill();
				restarts.push(sleep(DOWN_MS).then(() => s.restart()));
			}
			tracked.push(c.track('tick', { i, run }));
			if (i % PER_TICK === PER_TICK - 1)
				await sleep(TICK_MS);
		}
		await Promise.all(restarts);
		let timer;
		const ids = await Promise.race([Promise.all(tracked),
		    new Promise((resolve, reject) => {
			timer = setTimeout(() => reject(new Error(
			    `${c.acked} of ${EVENTS} acknowledged in 60 s`)), 60000);
		})]);
		clearTimeout(timer);
		assert.equal(new Set(ids).size, EVENTS);
		assert.equal(c.dropped, 0);

		const got = await broker.collectIds(s.names.queue, ids,
		    { timeout: 60000 });
		const sources = {};
		for (const m of got.messages.values())
			sources[m.body.source] = (sources[m.body.source] || 0) + 1;
		t.diagnostic(`tracked ${EVENTS}, acknowledged ${c.acked}, in ` +
		    `RabbitMQ ${got.messages.size} (lost ${got.missing.length}), ` +
		    `duplicates ${got.dups} (same id), other ids ${got.others}; ` +
		    `by source ${JSON.stringify(sources)}; ` +
		    `reconnects ${states.filter((x) => x === 'connected').length}; ` +
		    `client errors ${c.errors.length}`);
		assert.deepEqual(got.missing, [], 'lost events');
		assert.equal(got.others, 0, 'messages with ids never tracked');
		for (const [i, id] of ids.entries()) {
			const env = got.messages.get(id).body;
			assert.equal(env.id, id);
			assert.deepEqual(env.data, { i, run });
		}
		assert.ok(states.filter((x) => x === 'connected').length >= 2,
		    'never reconnected');
	} finally {
		await c.close();
	}
});
