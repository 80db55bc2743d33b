// 07-forwarder: what the forwarder does when the broker says no, against
// the real broker: a nacked publish is published again until it is taken,
// a returned (unroutable) one is kept and published again (matched to its
// publish even when client ids repeat), an id too long for message_id is
// refused at the door, an idle link with short heartbeats stays up,
// queue_type quorum declares quorum queues, and a journal written by other
// versions: a version-1 record (no type byte) is still forwarded, and a
// record of a type this build does not know stops forwarding before it.
// (A broker that blocks publishing is in tests/fault/06-broker-blocked: it
// affects the whole broker.)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	get, makeTmpDir, metrics, post, uniqueNames, waitFor,
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

// CRC-32C (Castagnoli), as the journal frames its records with.
function crc32c(buf) {
	let crc = ~0;
	for (const byte of buf) {
		crc ^= byte;
		for (let k = 0; k < 8; k++)
			crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
	}
	return (~crc) >>> 0;
}

function u16(n) {
	const b = Buffer.alloc(2);
	b.writeUInt16BE(n);
	return b;
}

function str16(s) {
	const b = Buffer.from(s);
	return Buffer.concat([u16(b.length), b]);
}

// The body of an event record (src/journal/record.c).
function eventBody(id, channel, name) {
	const json = Buffer.from(JSON.stringify({ id, app: 'web', channel,
	    event: name, data: {} }));
	const at = Buffer.alloc(8);
	at.writeBigInt64BE(BigInt(Date.now()));
	const jlen = Buffer.alloc(4);
	jlen.writeUInt32BE(json.length);
	return Buffer.concat([str16(id), str16('web'), str16(channel),
	    str16(name), at, jlen, json]);
}

// Writes a journal directory of one segment holding payloads as records
// 1, 2, ... (src/journal/journal_segment.h), nothing confirmed yet.
function writeJournal(dir, payloads) {
	fs.mkdirSync(dir, { recursive: true });
	const frames = payloads.map((p, i) => {
		const hdr = Buffer.alloc(16);
		hdr.writeUInt32LE(p.length, 0);
		hdr.writeBigUInt64LE(BigInt(i + 1), 8);
		hdr.writeUInt32LE(crc32c(Buffer.concat([hdr.subarray(8), p])), 4);
		return Buffer.concat([hdr, p]);
	});
	fs.writeFileSync(path.join(dir, '00000000000000000001.seg'),
	    Buffer.concat(frames));
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

	it('forwards a version-1 record and stops before one of an unknown ' +
	    'type', async () => {
		assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
		const old = randomUUID();
		const after = randomUUID();
		const journalDir = path.join(makeTmpDir('sluice-journal'), 'j');
		writeJournal(journalDir, [
			// Version 1: no type byte.
			Buffer.concat([Buffer.from([1]),
			    eventBody(old, 'events', 'old')]),
			// Version 2, type 200: from a newer sluiced.
			Buffer.concat([Buffer.from([2, 200]),
			    Buffer.from('a webhook job, say')]),
			// Version 2, an event: it must wait behind record 2.
			Buffer.concat([Buffer.from([2, 1]),
			    eventBody(after, 'events', 'after')]),
		]);
		// Its drain at shutdown cannot end: do not wait long for it.
		const d = await start({ name: 'stall', journalDir,
		    server: { shutdown_timeout: 1 } });
		const got = await broker.collectIds(d.names.queue, [old],
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
		assert.equal(got.messages.get(old).body.event, 'old');
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_amqp_stalled_record') === 2, { timeout: 10000 });
		const r = await get(`${d.baseUrl}/readyz`);
		assert.equal(r.status, 503);
		assert.match(r.json.reason, /cannot send/);
		// Record 1 is confirmed; 2 and 3 stay in the journal.
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_journal_unconfirmed_records') === 2);
		const later = await broker.collectIds(d.names.queue, [after],
		    { timeout: 1500 });
		assert.deepEqual(later.missing, [after]);
		const log = d.log();
		assert.match(log, /journal record 2 of type 200 \(unknown\)/);
		assert.equal(log.match(/journal record 2 of type/g).length, 1);
		// Still connected: only the stalled record holds it up.
		assert.equal((await metrics(d)).get('sluice_amqp_connected'), 1);
		// A restart stops at the same record: nothing was skipped.
		await d.restart();
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_amqp_stalled_record') === 2, { timeout: 10000 });
		assert.equal((await metrics(d)).get(
		    'sluice_journal_unconfirmed_records'), 2);
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
