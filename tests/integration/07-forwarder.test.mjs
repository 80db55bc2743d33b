// 07-forwarder: what the forwarder does when the broker says no, against
// the real broker: a nacked publish is published again until it is taken,
// a returned (unroutable) one is kept and published again (matched to its
// publish even when client ids repeat), an id too long for message_id is
// refused at the door, an idle link with short heartbeats stays up, and
// queue_type quorum declares quorum queues. (A broker that blocks publishing is in
// tests/fault/06-broker-blocked: it affects the whole broker.)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	metrics, post, uniqueNames, waitFor,
} from '../lib/sluiced.mjs';

// Each test starts a daemon of its own; after() stops them all and deletes
// their topologies, with the extraQueues a test set.
const { broker, start } = useSluiced(null);

function event(channel, name = 'tick') {
	return { id: randomUUID(), event: name, channel, data: { n: 1 } };
}

async function postOk(d, events) {
	const r = await post(d.url, events, { key: d.key });
	assert.equal(r.status, 202, r.text);
	return events.map((e) => e.id);
}

describe('forwarder', () => {
	it('a nacked publish is published again until the broker takes it',
	    async () => {
		const d = await start({ name: 'nack', waitReady: true });
		// A queue of ours that holds one message and nacks the rest.
		const limited = `${d.names.prefix}.limited`;
		d.extraQueues = [limited];
		await broker.withChannel(async (ch) => {
			await ch.assertQueue(limited, { durable: true, arguments: {
			    'x-max-length': 1, 'x-overflow': 'reject-publish' } });
			await ch.bindQueue(limited, d.names.exchange,
			    'game-limited.#');
		});
		const ids = await postOk(d, [event('game-limited'),
		    event('game-limited'), event('game-limited')]);
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_amqp_confirms_total{outcome="nack"}') > 0,
		    { timeout: 10000 });
		// Take them one at a time: each retry finds room for one more.
		const seen = new Set();
		await waitFor(async () => {
			for (const m of await broker.drain(limited))
				seen.add(m.properties.messageId);
			return ids.every((id) => seen.has(id));
		}, { timeout: 20000, interval: 100 });
		// Nothing is left unconfirmed in the journal.
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_journal_unconfirmed_records') === 0);
		// The archive queue (bound "#") got every one of them too.
		const got = await broker.collectIds(d.names.queue, ids,
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
	});

	it('a returned publish is kept and published again once routable',
	    async () => {
		const names = uniqueNames('return');
		// The archive takes events.# only, and the alternate exchange
		// is cut off from its queue: a chat event comes back unroutable.
		const d = await start({ name: 'return', names, waitReady: true,
		    queues: { [names.queue]: 'events.#' } });
		await broker.withChannel((ch) => ch.unbindQueue(d.names.unrouted,
		    d.names.unrouted, ''));
		// Two events with one client id (ids may repeat): the
		// archived one must not be mistaken for the returned one.
		const lost = event('chat.nowhere', 'lost');
		const kept = { ...event('events', 'kept'), id: lost.id };
		const [id] = await postOk(d, [kept, lost]);
		const queue = `${d.names.prefix}.late`;
		d.extraQueues = [queue];
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_amqp_returned_total') > 0, { timeout: 10000 });
		// Still unconfirmed: kept, not forgotten.
		const m = await metrics(d);
		assert.ok(m.get('sluice_journal_unconfirmed_records') >= 1);
		// A queue that matches appears: the next retry lands there.
		await broker.bindQueue(queue, d.names.exchange, 'chat.#');
		const got = await broker.collectIds(queue, [id],
		    { timeout: 15000 });
		assert.deepEqual(got.missing, []);
		assert.equal(got.messages.get(id).body.event, 'lost');
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_journal_unconfirmed_records') === 0);
	});

	it('an id over 255 bytes is refused and forwarding goes on',
	    async () => {
		const d = await start({ name: 'longid', waitReady: true });
		const r = await post(d.url, [{ id: '\u00e9'.repeat(128),
		    event: 'x' }, event('events')], { key: d.key });
		assert.equal(r.status, 207, r.text);
		assert.equal(r.json.errors[0].code, 'invalid_id');
		const got = await broker.collectIds(d.names.queue, r.json.ids,
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
		assert.equal((await metrics(d)).get(
		    'sluice_amqp_reconnects_total'), 0);
	});

	it('an idle link with short heartbeats stays up', async () => {
		const d = await start({ name: 'idle', waitReady: true,
		    amqp: { heartbeat: 1 } });
		await postOk(d, [event('events')]);
		await new Promise((resolve) => setTimeout(resolve, 4500));
		const m = await metrics(d);
		assert.equal(m.get('sluice_amqp_reconnects_total'), 0,
		    d.log());
		assert.equal(m.get('sluice_amqp_connected'), 1);
	});

	it('queue_type = quorum declares quorum queues', async () => {
		const d = await start({ name: 'quorum', waitReady: true,
		    amqp: { queue_type: 'quorum' } });
		const [id] = await postOk(d, [event('events')]);
		const got = await broker.collectIds(d.names.queue, [id],
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
		// Declaring it again as a classic queue must clash.
		await assert.rejects(broker.withChannel((ch) =>
		    ch.assertQueue(d.names.queue, { durable: true,
		    arguments: { 'x-queue-type': 'classic' } })),
		    /PRECONDITION_FAILED/);
	});
});
