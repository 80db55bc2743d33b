// 06-broker-blocked: a broker under a memory alarm blocks publishers
// (connection.blocked). sluiced pauses publishing, /readyz says 503, the
// journal goes on taking events (a backlog of thousands), and once the
// alarm clears every event arrives. It raises the alarm on the whole broker, so it runs on its own
// with the fault tests.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	get, metrics, post, rabbitmqNode, waitFor,
} from '../lib/sluiced.mjs';

const RABBITMQ_DIR = process.env.SLUICE_TEST_RABBITMQ_DIR;
const BACKLOG = 5000;

// The daemon is started by the test (unless it is skipped).
const { broker, start } = useSluiced(null);
let d;

function event() {
	return { id: randomUUID(), event: 'tick', channel: 'events',
	    data: { n: 1 } };
}

async function postOk(events) {
	const r = await post(d.url, events, { key: d.key });
	assert.equal(r.status, 202, r.text);
	return events.map((e) => e.id);
}

describe('broker blocked', () => {
	it('a broker resource alarm blocks publishing; nothing is lost',
	    async (t) => {
		if (!RABBITMQ_DIR) {
			t.skip('SLUICE_TEST_RABBITMQ_DIR is not set: the broker ' +
			    'was not started by the test harness');
			return;
		}
		d = await start({ name: 'blocked', waitReady: true });
		const ctl = (...args) => rabbitmqNode(['ctl', RABBITMQ_DIR,
		    ...args]);
		let ids;
		ctl('set_vm_memory_high_watermark', '0.0000001');
		try {
			// Publishing makes the broker send connection.blocked.
			ids = await postOk([event(), event()]);
			await waitFor(async () => (await metrics(d)).get(
			    'sluice_amqp_blocked') === 1, { timeout: 15000 });
			const r = await get(`${d.baseUrl}/readyz`);
			assert.equal(r.status, 503);
			assert.equal(r.json.ready, false);
			assert.match(r.json.reason, /blocks publishing/);
			// Ingestion goes on into the journal: a backlog of
			// thousands, none of it published while blocked.
			for (let i = 0; i < BACKLOG / 100; i++)
				ids.push(...await postOk(Array.from({ length: 100 },
				    event)));
			const m = await metrics(d);
			assert.equal(m.get('sluice_amqp_blocked'), 1);
			assert.ok(m.get('sluice_journal_unconfirmed_records') >=
			    BACKLOG, 'the backlog waits in the journal');
		} finally {
			ctl('set_vm_memory_high_watermark', '0.6');
		}
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_amqp_blocked') === 0, { timeout: 15000 });
		assert.equal((await get(`${d.baseUrl}/readyz`)).status, 200);
		const got = await broker.collectIds(d.names.queue, ids,
		    { timeout: 60000 });
		assert.deepEqual(got.missing, []);
	});
});
