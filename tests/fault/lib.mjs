// tests/fault/lib.mjs: what the fault tests share beyond tests/lib/: a
// client that retries like a real one, a killer, a consumer that keeps every
// copy, the Jepsen-style tally of lost and duplicated events, and the
// verdict every test ends with.
//
// The tally works on three sets the client keeps: the ids it ever sent
// (attempted), the ids a 202 acknowledged (acked) and the ids of requests
// refused with 503 that were never sent again (refused). Against what the
// broker delivered:
//   lost        acknowledged but never delivered (must be 0)
//   duplicated  ids delivered more than once (at least once allows it)
//   recovered   delivered though never acknowledged (a reply lost in a kill)
//   unexpected  delivered but never sent (must be 0)
//   resurrected refused with 503 yet delivered (must be 0: a refusal means
//               nothing of the request was journaled)
//   malformed   copies whose body is not JSON or whose message_id is not
//               the envelope id (must be 0)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
	AMQP_URL, RABBITMQ_NODE, get, metrics, post, sleep, waitFor,
} from '../lib/sluiced.mjs';

// The broker tests/integration/run started, which tests may stop.
export const RABBITMQ_DIR = process.env.SLUICE_TEST_RABBITMQ_DIR;
export const RABBITMQ_PORT = process.env.SLUICE_TEST_RABBITMQ_PORT;

// Why a test that stops the broker must be skipped, or false.
export function brokerSkipReason() {
	if (!RABBITMQ_DIR || !RABBITMQ_PORT)
		return 'SLUICE_TEST_RABBITMQ_DIR and _PORT are not set: the ' +
		    'broker was not started by tests/integration/run, and ' +
		    'this test stops its broker';
	if (new URL(AMQP_URL).port !== RABBITMQ_PORT)
		return `SLUICE_TEST_AMQP_URL (${AMQP_URL}) is not the ` +
		    `broker on SLUICE_TEST_RABBITMQ_PORT ${RABBITMQ_PORT}`;
	return false;
}

// Ids unique to this run: "<tag>-<run>-<i>" for i in [0, n).
export function makeIds(tag, n) {
	const run = `${process.pid}.${randomBytes(3).toString('hex')}`;
	const ids = new Array(n);
	for (let i = 0; i < n; i++)
		ids[i] = `${tag}-${run}-${i}`;
	return ids;
}

// Splits ids into batches of event objects (sizes from sizeFn()).
export function makeBatches(ids, sizeFn, event = 'fault') {
	const out = [];
	for (let i = 0; i < ids.length;) {
		const n = Math.max(1, Math.min(sizeFn(), ids.length - i));
		out.push(ids.slice(i, i + n).map((id, k) => ({ event, id,
		    data: { i: i + k, pad: 'x'.repeat(64) } })));
		i += n;
	}
	return out;
}

export function randomInt(lo, hi) {
	return lo + Math.floor(Math.random() * (hi - lo + 1));
}

// True if a 202's ids are those of batch, in order.
function sameIds(ids, batch) {
	return Array.isArray(ids) && ids.length === batch.length &&
	    ids.every((id, i) => id === batch[i].id);
}

// A name for what went wrong with one request: "503", "ECONNREFUSED"...
function failureName(r, err) {
	if (err)
		return err.code || err.message.replace(/:.*$/, '').slice(0, 40);
	return String(r.status);
}

/*
 * A client that posts batches the way a real one does: several requests at
 * once; a request that fails (no answer, connection refused or reset, 503)
 * is retried later with the same events and ids until a 202 acknowledges
 * it. Any other status is a test bug and stops the run.
 *
 * Options: url, key, concurrency, eventsPerSec (pace of first attempts, 0
 * for none), retryMs ([lo, hi] random delay before a retry), timeout (per
 * request, ms).
 */
export class RetryingClient {
	constructor({ url, key, concurrency = 4, eventsPerSec = 0,
	    retryMs = [50, 300], timeout = 10000 }) {
		this.url = url;
		this.key = key;
		this.concurrency = concurrency;
		this.eventsPerSec = eventsPerSec;
		this.retryMs = retryMs;
		this.timeout = timeout;
		this.attempted = new Set();
		this.acked = new Set();
		this.requests = 0;
		this.failures = new Map();	// failureName -> count
		this.retries = [];		// {batch, due}
		this.inFlight = 0;
		this.stopped = false;
	}

	// Makes run() return soon, whatever is left to send or retry.
	stop() {
		this.stopped = true;
	}

	failureCount() {
		let n = 0;
		for (const v of this.failures.values())
			n += v;
		return n;
	}

	failureSummary() {
		const parts = [...this.failures].map(([k, v]) => `${k}=${v}`);
		return parts.join(' ') || 'none';
	}

	// One attempt; true when acknowledged.
	async attempt(batch) {
		for (const e of batch)
			this.attempted.add(e.id);
		this.requests++;
		let r, err;
		try {
			r = await post(this.url, batch, { key: this.key,
			    timeout: this.timeout });
		} catch (e) {
			err = e;
		}
		if (r && r.status === 202) {
			if (!sameIds(r.json && r.json.ids, batch)) {
				const text = r.text.slice(0, 200);
				throw new Error('a 202 acknowledged other ' +
				    `ids than those sent: ${text}`);
			}
			for (const e of batch)
				this.acked.add(e.id);
			return true;
		}
		if (r && r.status !== 503)
			throw new Error(`unexpected answer ${r.status}: ` +
			    r.text.slice(0, 300));
		const what = failureName(r, err);
		this.failures.set(what, (this.failures.get(what) || 0) + 1);
		return false;
	}

	// Schedules batch to be sent again after a random delay.
	retryLater(batch) {
		const [lo, hi] = this.retryMs;
		const due = Date.now() + randomInt(lo, hi);
		this.retries.push({ batch, due });
	}

	// The retry that is due first, if one is due now; else null.
	takeDueRetry() {
		const now = Date.now();
		let best = -1;
		for (let i = 0; i < this.retries.length; i++) {
			const due = this.retries[i].due;
			if (due <= now && (best === -1 ||
			    due < this.retries[best].due))
				best = i;
		}
		if (best === -1)
			return null;
		return this.retries.splice(best, 1)[0].batch;
	}

	lateMessage() {
		return 'client: deadline passed; ' +
		    `${this.acked.size} of ${this.attempted.size} ids ` +
		    `acknowledged, ${this.retries.length} batches to retry; ` +
		    `failures: ${this.failureSummary()}`;
	}

	/*
	 * Sends what next() gives (a batch, or null when there is nothing new
	 * any more) and retries the failures, until everything sent is
	 * acknowledged. Throws when deadline (a Date.now() value) passes first.
	 */
	async run(next, { deadline }) {
		const t0 = Date.now();
		let fresh = 0;		// events sent for the first time
		let exhausted = false;	// next() said null
		let aborted = false;	// a worker failed: every one stops
		const paced = () => this.eventsPerSec > 0 &&
		    t0 + fresh * 1000 / this.eventsPerSec > Date.now();
		// A batch to send now: a retry that is due, else a new one if
		// the pace allows; null when there is none now.
		const pick = () => {
			let batch = this.takeDueRetry();
			if (batch === null && !exhausted && !paced()) {
				batch = next();
				if (batch === null)
					exhausted = true;
				else
					fresh += batch.length;
			}
			return batch;
		};
		const finished = () => exhausted && this.retries.length === 0 &&
		    this.inFlight === 0;
		const worker = async () => {
			while (!aborted && !this.stopped && !finished()) {
				if (Date.now() > deadline) {
					aborted = true;
					throw new Error(this.lateMessage());
				}
				const batch = pick();
				if (batch === null) {
					await sleep(5);
					continue;
				}
				this.inFlight++;
				let ok;
				try {
					ok = await this.attempt(batch);
				} catch (e) {
					aborted = true;
					throw e;
				} finally {
					this.inFlight--;
				}
				if (!ok)
					this.retryLater(batch);
			}
		};
		const workers = [];
		for (let i = 0; i < this.concurrency; i++)
			workers.push(worker());
		await Promise.all(workers);
	}
}

/*
 * SIGKILLs the daemon kills times, at random intervals of [minMs, maxMs]
 * ms, and starts it again on the same journal and port after a random
 * downtime of [0, downMs] ms. Stops early when until() is true. Just before
 * each kill, sample() (if given) is awaited and its value kept. Returns
 * {times, samples}: the times (ms since start) of the kills and the samples.
 */
export async function killRepeatedly(handle, { kills = 5, minMs = 300,
    maxMs = 1500, downMs = 200, until = () => false, sample = null } = {}) {
	const t0 = Date.now();
	const times = [];
	const samples = [];
	for (let k = 0; k < kills; k++) {
		await sleep(randomInt(minMs, maxMs));
		if (until())
			break;
		if (sample)
			samples.push(await sample());
		await handle.kill();
		times.push(Date.now() - t0);
		await sleep(randomInt(0, downMs));
		await handle.restart();
	}
	return { times, samples };
}

// The value of one metric of the daemon (labels written as in the text).
export async function metric(handle, name) {
	const m = await metrics(handle);
	if (!m.has(name))
		throw new Error(`/metrics has no ${name}`);
	return m.get(name);
}

// Waits until the daemon's journal holds no unconfirmed record.
export async function waitDrained(handle, { timeout = 60000 } = {}) {
	await waitFor(async () => await metric(handle,
	    'sluice_journal_unconfirmed_records') === 0, { timeout,
	    interval: 100, what: 'sluice_journal_unconfirmed_records 0' });
}

// GET /readyz: {status, reason}.
export async function readyz(handle) {
	const r = await get(`${handle.baseUrl}/readyz`, { timeout: 5000 });
	return { status: r.status, reason: r.json && r.json.reason,
	    json: r.json, text: r.text };
}

// tools/rabbitmq-node ARGS without blocking the event loop (the clients
// keep posting meanwhile). Resolves its stdout; rejects on failure.
export function rabbitmqNodeAsync(args, { timeout = 120000 } = {}) {
	return new Promise((resolve, reject) => {
		const p = spawn(RABBITMQ_NODE, args, { stdio: ['ignore', 'pipe',
		    'pipe'] });
		let out = '';
		let errText = '';
		p.stdout.on('data', (d) => {
			out += d;
		});
		p.stderr.on('data', (d) => {
			errText += d;
		});
		const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
		p.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
		p.on('close', (code, signal) => {
			clearTimeout(timer);
			if (code === 0)
				resolve(out.trim());
			else
				reject(new Error('tools/rabbitmq-node ' +
				    `${args.join(' ')} failed ` +
				    `(${code ?? signal}): ${errText}`));
		});
	});
}

/*
 * The broker outage scenario of 02 and 05. A client posts continuously
 * (batches of batch events, eventsPerSec) to the daemon of handle s; after
 * 1.5 s, a burst of burst events more is posted as fast as it goes (so the
 * forwarder has a backlog and many publishes in flight) and takeDown()
 * takes the broker down at once; /readyz must go 503 (its answer is kept);
 * posting goes on for outageMs; then the broker is started again
 * (startBroker()), /readyz must come back to 200, and posting stops a
 * second later. The broker is started again whatever happens. Returns
 * {acked, attempted, failures, down, facts}: the ids the clients sent and
 * saw acknowledged, their failed requests (a summary, '' if none), the
 * /readyz answer during the outage, and what to report.
 */
export async function brokerOutage(s, { takeDown, outageMs,
    eventsPerSec = 1000, batch = 20, burst = 0, tag = 'outage' }) {
	const t0 = Date.now();
	const ids = makeIds(tag, 100000);
	let next = 0;
	let posting = true;
	const client = new RetryingClient({ url: s.url, key: s.key,
	    concurrency: 2, eventsPerSec });
	const run = client.run(() => {
		if (!posting || next >= ids.length)
			return null;
		const b = makeBatches(ids.slice(next, next + batch),
		    () => batch, `fault_${tag}`)[0];
		next += b.length;
		return b;
	}, { deadline: t0 + 90000 }).then(() => null, (e) => e);
	const burster = new RetryingClient({ url: s.url, key: s.key,
	    concurrency: 4 });

	const facts = {};
	let brokerDown = false;
	let down, ackedAtDown;
	try {
		await sleep(1500);
		if ((await readyz(s)).status !== 200)
			throw new Error('sluiced not ready before the outage');
		if (burst > 0) {
			const bursts = makeBatches(makeIds(`${tag}-burst`,
			    burst), () => 500, `fault_${tag}`);
			await burster.run(() => bursts.shift() || null,
			    { deadline: Date.now() + 30000 });
		}
		facts.unconfirmed_at_down = await metric(s,
		    'sluice_journal_unconfirmed_records');
		ackedAtDown = client.acked.size;
		brokerDown = true;
		let ts = Date.now();
		await takeDown();
		facts.take_down_ms = Date.now() - ts;
		const downAt = Date.now();
		down = await waitFor(async () => {
			const r = await readyz(s);
			return r.status === 503 ? r : null;
		}, { timeout: 10000, interval: 50,
		    what: '/readyz 503 with the broker down' });
		facts.not_ready_ms = Date.now() - downAt;
		if (await metric(s, 'sluice_amqp_connected') !== 0)
			throw new Error('sluice_amqp_connected is not 0 with ' +
			    'the broker down');
		await sleep(Math.max(0, outageMs - (Date.now() - downAt)));
		const still = await readyz(s);
		if (still.status !== 503)
			throw new Error(`/readyz answered ${still.status} at ` +
			    'the end of the outage');
		facts.acked_during_outage = client.acked.size - ackedAtDown;
		facts.unconfirmed_at_restart = await metric(s,
		    'sluice_journal_unconfirmed_records');

		ts = Date.now();
		await startBroker();
		brokerDown = false;
		facts.broker_start_ms = Date.now() - ts;
		ts = Date.now();
		await waitFor(async () => (await readyz(s)).status === 200,
		    { timeout: 30000, interval: 50,
		    what: '/readyz 200 with the broker back' });
		facts.ready_again_ms = Date.now() - ts;
		await sleep(1000);
	} finally {
		posting = false;
		if (brokerDown)
			await startBroker();
	}
	const clientErr = await run;
	if (clientErr)
		throw clientErr;
	facts.reconnects = await metric(s, 'sluice_amqp_reconnects_total');
	const failures = [client, burster].filter((c) => c.failureCount() > 0).
	    map((c) => c.failureSummary()).join(' ');
	return {
		acked: new Set([...client.acked, ...burster.acked]),
		attempted: new Set([...client.attempted, ...burster.attempted]),
		failures,
		down,
		facts,
	};
}

/*
 * The test of 02 and 05 (named name in its report), on the daemon s and an
 * unopened broker: runs brokerOutage with opts, where no post may fail;
 * then opens broker, collects and reports the tally and passes the verdict
 * (assertNothingLost), and every post must have been answered. Returns
 * {facts, down} of brokerOutage, for the test's own checks.
 */
export async function brokerOutageTest(t, name, s, broker, opts) {
	const t0 = Date.now();
	const { acked, attempted, failures, down, facts } =
	    await brokerOutage(s, opts);
	assert.equal(failures, '', 'posts failed although only the broker ' +
	    'was down');
	await broker.open();
	const { r, drained } = await collectTally(s, broker,
	    { acked, attempted });
	report(t, name, r, {
		...facts,
		readyz_reason: JSON.stringify(down.reason),
		seconds: ((Date.now() - t0) / 1000).toFixed(1),
	});
	assertNothingLost(s, r, drained);
	assert.equal(r.recovered, 0, 'every post was answered');
	return { facts, down };
}

// Starts the harness's broker (again); nothing happens if it runs.
export function startBroker() {
	return rabbitmqNodeAsync(['start', RABBITMQ_DIR, RABBITMQ_PORT]);
}

// Stops the harness's broker politely (its data stays).
export function stopBroker() {
	return rabbitmqNodeAsync(['stop', RABBITMQ_DIR]);
}

// SIGKILLs the harness's broker (the pid tools/rabbitmq-node's node wrote
// in its dir) and waits until it is gone.
export async function killBroker() {
	const file = path.join(RABBITMQ_DIR, 'rabbitmq.pid');
	const pid = Number(fs.readFileSync(file, 'utf8'));
	if (!Number.isInteger(pid) || pid <= 1)
		throw new Error(`${file} holds no pid`);
	process.kill(pid, 'SIGKILL');
	await waitFor(() => {
		try {
			process.kill(pid, 0);
			return false;
		} catch {
			return true;
		}
	}, { timeout: 10000, interval: 20, what: `the node ${pid} gone` });
}

/*
 * Consumes every message of queue, keeping every copy, until each id of
 * ids was seen and quiet ms passed without a message (so late duplicates
 * are counted too), or timeout ms passed in all. Returns [{id, body, raw,
 * properties}] in delivery order.
 */
export async function consumeAll(broker, queue, ids, { timeout = 60000,
    quiet = 1000 } = {}) {
	const want = new Set(ids);
	const seen = new Set();
	const out = [];
	return broker.withChannel(async (ch) => {
		await ch.prefetch(1000);
		let tag;
		let last = Date.now();
		await new Promise((resolve, reject) => {
			const t0 = Date.now();
			const timer = setInterval(() => {
				const now = Date.now();
				const done = seen.size === want.size &&
				    now - last >= quiet;
				if (done || now - t0 > timeout) {
					clearInterval(timer);
					resolve();
				}
			}, 50);
			ch.consume(queue, (msg) => {
				if (msg === null)
					return;
				last = Date.now();
				ch.ack(msg);
				const raw = msg.content.toString('utf8');
				let body;
				try {
					body = JSON.parse(raw);
				} catch {
					body = undefined;
				}
				const id = msg.properties.messageId;
				if (want.has(id))
					seen.add(id);
				out.push({ id, body, raw,
				    properties: msg.properties });
			}).then((r) => {
				tag = r.consumerTag;
			}, (e) => {
				clearInterval(timer);
				reject(e);
			});
		});
		if (tag)
			await ch.cancel(tag);
		return out;
	});
}

/*
 * The Jepsen-style tally (see the top of this file). acked, attempted and
 * refused are iterables of ids; messages come from consumeAll.
 */
export function tally({ acked, attempted = acked, refused = [], messages }) {
	const copies = new Map();
	const malformed = [];
	for (const m of messages) {
		copies.set(m.id, (copies.get(m.id) || 0) + 1);
		if (m.body === undefined || m.body === null ||
		    typeof m.body !== 'object' || m.body.id !== m.id)
			malformed.push(m.id === undefined ? m.raw.slice(0, 80) :
			    m.id);
	}
	const ackedSet = new Set(acked);
	const attemptedSet = new Set(attempted);
	const lost = [...ackedSet].filter((id) => !copies.has(id));
	let duplicated = 0;
	let extraCopies = 0;
	const unexpected = [];
	let recovered = 0;
	for (const [id, n] of copies) {
		if (n > 1) {
			duplicated++;
			extraCopies += n - 1;
		}
		if (!attemptedSet.has(id))
			unexpected.push(id);
		else if (!ackedSet.has(id))
			recovered++;
	}
	const resurrected = [...refused].filter((id) => copies.has(id));
	return {
		acked: ackedSet.size,
		attempted: attemptedSet.size,
		delivered: messages.length,
		lost,
		duplicated,
		extraCopies,
		recovered,
		unexpected,
		resurrected,
		malformed,
	};
}

/*
 * How a fault test ends: waits (30 s at most) for the journal of the daemon
 * s to drain, then consumes its queue from broker until every id of acked
 * came and a second passed without more, and tallies what came. acked and
 * attempted are sets of ids (a RetryingClient has both). Returns {r,
 * drained}: the tally, and the error of a journal that did not drain (null
 * if it did), to throw once the tally is reported (see assertNothingLost).
 */
export async function collectTally(s, broker, { acked, attempted }) {
	const drained = await waitDrained(s, { timeout: 30000 }).then(
	    () => null, (e) => e);
	const messages = await consumeAll(broker, s.names.queue, acked,
	    { timeout: 30000, quiet: 1000 });
	return { r: tally({ acked, attempted, messages }), drained };
}

/*
 * The verdict of a fault test, once its tally r is reported: the journal
 * drained (drained, from collectTally, is null), no acknowledged event was
 * lost, none came that nobody sent or that is malformed, and the daemon s
 * did not die on its own.
 */
export function assertNothingLost(s, r, drained = null) {
	if (drained)
		throw drained;
	assert.equal(r.lost.length, 0, `${r.lost.length} acknowledged events ` +
	    `lost, e.g. ${r.lost.slice(0, 5).join(' ')}`);
	assert.deepEqual(r.unexpected, [], 'events nobody sent arrived');
	assert.deepEqual(r.malformed, [], 'messages whose body is not JSON ' +
	    'or whose message_id is not the envelope id');
	assert.equal(s.exitCode, undefined, 'sluiced died on its own');
}

// What the journal's recoveries in a daemon log say: the records found
// unconfirmed and the torn-tail bytes cut, summed over every start.
export function recoveries(log) {
	let records = 0;
	let tornBytes = 0;
	const re = /(\d+) unconfirmed records recovered, (\d+) bytes of torn/g;
	for (const m of log.matchAll(re)) {
		records += Number(m[1]);
		tornBytes += Number(m[2]);
	}
	return { records, tornBytes };
}

// Prints the tally (and extra facts) as a test diagnostic.
export function report(t, name, r, extra = {}) {
	const facts = {
		acked: r.acked,
		attempted: r.attempted,
		delivered: r.delivered,
		lost: r.lost.length,
		duplicated: r.duplicated,
		extra_copies: r.extraCopies,
		recovered: r.recovered,
		unexpected: r.unexpected.length,
		resurrected: r.resurrected.length,
		malformed: r.malformed.length,
		...extra,
	};
	const line = `${name}: ` + Object.entries(facts).map(([k, v]) =>
	    `${k}=${v}`).join(' ');
	t.diagnostic(line);
	if (r.lost.length > 0)
		t.diagnostic(`${name}: first lost ids: ` +
		    r.lost.slice(0, 20).join(' '));
}
