// 09-shutdown-replies: SIGTERM under load owes every client the answer to
// its request. 1,000 clients post small batches on keep-alive connections
// to one HTTP thread (so that many answers fall due at once), each as
// fast as it is answered; SIGTERM comes in the middle. A request whose
// events were made durable must get its 202: an event of a request that
// saw no answer (the connection reset) must not reach RabbitMQ, or a
// client retrying without its own ids would make a duplicate. After a
// restart every acknowledged event arrives.

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { post, sleep } from '../lib/sluiced.mjs';
import { consumeAll, makeIds } from './lib.mjs';

const CLIENTS = 1000;
const BATCH = 5;
const LOAD_MS = 1500;

const { s, broker } = useSluiced({ name: 'fault-replies', waitReady: true,
    server: { http_threads: 1, http_max_connections_per_client: 2000 } });

test('SIGTERM under load: every durable event was answered 202',
    { timeout: 120000 }, async () => {
	const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
	const acked = [];
	const unanswered = [];
	const refused = [];
	let stopping = false;
	let n = 0;
	const client = async (k) => {
		for (;;) {
			const ids = makeIds(`replies-${k}-${n++}`, BATCH);
			const body = ids.map((id) => ({ event: 'r', id }));
			let r;
			try {
				r = await post(s.url, body, { key: s.key, agent,
				    timeout: 20000 });
			} catch {
				unanswered.push(...ids);
				return;
			}
			if (r.status === 202)
				acked.push(...ids);
			else {
				refused.push(...ids);
				if (stopping)
					return;
			}
		}
	};
	const clients = Array.from({ length: CLIENTS }, (_, k) => client(k));
	await sleep(LOAD_MS);
	stopping = true;
	const code = await s.stop({ timeout: 30000 });
	assert.equal(code, 0);
	await Promise.all(clients);
	agent.destroy();
	// What the journal kept goes out after a restart.
	await s.restart();
	const messages = await consumeAll(broker, s.names.queue, acked,
	    { timeout: 90000, quiet: 2000 });
	const delivered = new Set(messages.map((m) => m.id));
	const lost = acked.filter((id) => !delivered.has(id));
	const durableUnanswered = unanswered.filter((id) => delivered.has(id));
	const refusedDelivered = refused.filter((id) => delivered.has(id));
	console.log(`ℹ 09-shutdown-replies: acked=${acked.length} ` +
	    `refused=${refused.length} unanswered=${unanswered.length} ` +
	    `delivered=${delivered.size} lost=${lost.length} ` +
	    `durable_unanswered=${durableUnanswered.length} ` +
	    `refused_delivered=${refusedDelivered.length}`);
	assert.ok(acked.length > 0, 'no request was acknowledged');
	assert.equal(lost.length, 0, `${lost.length} acknowledged events lost`);
	assert.equal(durableUnanswered.length, 0,
	    `${durableUnanswered.length} events were made durable but their ` +
	    'request got no answer');
	assert.equal(refusedDelivered.length, 0,
	    `${refusedDelivered.length} events of refused requests delivered`);
});
