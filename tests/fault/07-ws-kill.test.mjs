// 07-ws-kill: 01-kill over WebSocket. Clients publish 12,000 events with
// sluice:publish (each with its own id, in batches, several publishes in
// flight on each connection) while sluiced is SIGKILLed at random moments
// and started again on the same journal and ports. A publish whose
// connection dies before its sluice:ack is sent again, with the same ids,
// on a new connection. Afterwards every acknowledged id must be in RabbitMQ
// (lost == 0), with source "ws"; duplicates are allowed and counted.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { sleep } from '../lib/sluiced.mjs';
import { connect } from '../lib/ws.mjs';
import {
	RetryingClient, assertNothingLost, consumeAll, killRepeatedly,
	makeBatches, makeIds, metric, randomInt, recoveries, report, tally,
	waitDrained,
} from './lib.mjs';

const EVENTS = 12000;
const KILLS = 5;
// Paced so the publishing outlasts the kills (5 x 0.3-1.5 s plus restarts).
const EVENTS_PER_SEC = 1000;
const CONNECTIONS = 2;
const UNCONFIRMED = 'sluice_journal_unconfirmed_records';
// Whole-message refusals a client retries (nothing of it was taken).
const RETRYABLE = ['journal_full', 'stopping', 'journal_unavailable',
    'rate_limited'];

const { s, broker } = useSluiced({ name: 'fault-ws-kill', waitReady: true,
    waitWs: true, amqp: { max_inflight: 1 } }, { forceStop: true });

/*
 * RetryingClient (see lib.mjs) publishing over WebSocket: each attempt
 * sends one sluice:publish on one of a few shared connections (opened
 * again when they die) and waits for its reply. An ack must name the ids
 * sent; a retryable nack, a dead connection or no reply in time fail the
 * attempt, which run() sends again later. Any other nack stops the run.
 */
class WsRetryingClient extends RetryingClient {
	constructor(handle, opts) {
		super({ url: null, key: handle.key, ...opts });
		this.handle = handle;
		this.slots = Array.from({ length: opts.connections }, () =>
		    ({ conn: null, opening: null }));
		this.turn = 0;
		this.refs = 0;
		this.connects = 0;
	}

	// An open connection of the next slot, opened if need be.
	async connection() {
		const slot = this.slots[this.turn++ % this.slots.length];
		if (slot.conn && slot.conn.isOpen)
			return slot.conn;
		if (!slot.opening) {
			slot.opening = connect(this.handle, { timeout: 5000 }).then(
			    (c) => {
				this.connects++;
				slot.conn = c;
				return c;
			}).finally(() => {
				slot.opening = null;
			});
		}
		return slot.opening;
	}

	fail(what) {
		this.failures.set(what, (this.failures.get(what) || 0) + 1);
		return false;
	}

	async attempt(batch) {
		for (const e of batch)
			this.attempted.add(e.id);
		this.requests++;
		let c;
		try {
			c = await this.connection();
		} catch {
			await sleep(randomInt(20, 100));
			return this.fail('connect');
		}
		const ref = `ref-${this.refs++}`;
		let r;
		try {
			await c.sendPublish(ref, batch);
			r = await c.reply(ref, { timeout: this.timeout });
		} catch (e) {
			if (c.isOpen && /^no /.test(e.message)) {
				// No reply in time: this connection is no good.
				c.terminate();
				return this.fail('no_reply');
			}
			return this.fail('closed');
		}
		if (r.event === 'sluice:ack') {
			const ids = r.payload.ids;
			if (!Array.isArray(ids) || ids.length !== batch.length ||
			    !ids.every((id, i) => id === batch[i].id))
				throw new Error('an ack named other ids than those ' +
				    `sent: ${r.raw.slice(0, 300)}`);
			for (const e of batch)
				this.acked.add(e.id);
			return true;
		}
		const errs = r.payload && r.payload.errors;
		if (r.event === 'sluice:nack' && Array.isArray(errs) &&
		    errs.length === 1 && errs[0].index === null &&
		    RETRYABLE.includes(errs[0].code) &&
		    r.payload.ids.length === 0)
			return this.fail(errs[0].code);
		throw new Error(`unexpected reply: ${r.raw.slice(0, 300)}`);
	}

	async closeAll() {
		for (const slot of this.slots) {
			if (slot.opening)
				await slot.opening.catch(() => null);
			if (slot.conn)
				await slot.conn.close();
		}
	}
}

test(`${EVENTS} events over WebSocket, ${KILLS} SIGKILLs: every ` +
    'acknowledged event arrives', { timeout: 150000 }, async (t) => {
	const t0 = Date.now();
	const ids = makeIds('wskill', EVENTS);
	const batches = makeBatches(ids, () => randomInt(1, 50),
	    'fault_ws_kill');
	let next = 0;
	let clientDone = false;
	const client = new WsRetryingClient(s, { connections: CONNECTIONS,
	    concurrency: 6, eventsPerSec: EVENTS_PER_SEC, retryMs: [50, 300],
	    timeout: 15000 });
	const clientRun = client.run(() => next < batches.length ?
	    batches[next++] : null, { deadline: t0 + 75000 }).then(
	    () => null, (e) => e).finally(() => {
		clientDone = true;
	});

	let kills;
	try {
		kills = await killRepeatedly(s, { kills: KILLS, minMs: 300,
		    maxMs: 1500, downMs: 200, until: () => clientDone,
		    sample: () => metric(s, UNCONFIRMED).catch(() => NaN) });
	} catch (e) {
		client.stop();
		await clientRun;
		await client.closeAll();
		throw e;
	}
	const clientErr = await clientRun;
	await client.closeAll();
	const postedMs = Date.now() - t0;
	if (clientErr)
		throw clientErr;
	assert.equal(kills.times.length, KILLS, `only ${kills.times.length} ` +
	    `kills happened while the client was publishing (it took ` +
	    `${postedMs} ms)`);
	assert.equal(client.acked.size, EVENTS);
	assert.ok(client.failureCount() > 0, 'the kills should have failed ' +
	    'some publishes');
	assert.equal(s.exitCode, undefined, 'sluiced died on its own');

	const drained = await waitDrained(s, { timeout: 30000 }).then(
	    () => null, (e) => e);
	const messages = await consumeAll(broker, s.names.queue, client.acked,
	    { timeout: 30000, quiet: 1000 });
	const r = tally({ acked: client.acked, attempted: client.attempted,
	    messages });
	const notWs = messages.filter((m) => m.body && m.body.source !== 'ws');
	const rec = recoveries(s.log());
	report(t, '07-ws-kill', r, {
		kills: KILLS,
		kill_ms: kills.times.join(','),
		unconfirmed_at_kills: kills.samples.join(','),
		publishes: client.requests,
		connects: client.connects,
		failed_publishes: client.failureSummary().replace(/ /g, ','),
		recovered_records: rec.records,
		torn_bytes_cut: rec.tornBytes,
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assertNothingLost(s, r, drained);
	assert.deepEqual(notWs.map((m) => m.id), [], 'events published over ' +
	    'WebSocket arrived without source "ws"');
	assert.ok(kills.samples.some((n) => n > 0), 'no kill found ' +
	    'unconfirmed records in the journal');
});
