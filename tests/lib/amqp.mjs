// tests/lib/amqp.mjs: reading what sluiced published, with amqplib.
//
// connect() returns a Broker on SLUICE_TEST_AMQP_URL. Each operation uses a
// channel of its own, so a failed check (a 404 on a missing queue closes
// its channel) does not spoil the others. Every wait is bounded.
// useSluiced() gives the tests of a file a sluiced and a Broker, and cleans
// up after them.

import amqplib from 'amqplib';
import { after, before, beforeEach } from 'node:test';

import { AMQP_URL, startSluiced } from './sluiced.mjs';

// A delivered message as tests look at it.
function toMessage(msg) {
	let body;
	const raw = msg.content.toString('utf8');
	try {
		body = JSON.parse(raw);
	} catch {
		body = undefined;
	}
	return { body, raw, properties: msg.properties, fields: msg.fields };
}

// Cancels the consumer tag (if there is one) and closes ch, whatever state
// they are in.
async function closeConsumer(ch, tag) {
	try {
		if (tag)
			await ch.cancel(tag);
		await ch.close();
	} catch {
		// gone already
	}
}

export class Broker {
	// A Broker with no connection yet: open() connects it.
	constructor() {
		this.conn = null;
		this.closed = false;
	}

	// Connects to url (default SLUICE_TEST_AMQP_URL), retrying for
	// timeout ms; resolves this Broker.
	async open(url = AMQP_URL, { timeout = 15000 } = {}) {
		const deadline = Date.now() + timeout;
		let conn;
		for (;;) {
			try {
				conn = await amqplib.connect(url, { timeout: 5000 });
				break;
			} catch (e) {
				if (Date.now() > deadline)
					throw new Error(`cannot connect to ${url}: ` +
					    e.message);
				await new Promise((r) => setTimeout(r, 250));
			}
		}
		this.conn = conn;
		this.closed = false;
		conn.on('error', () => {});
		conn.on('close', () => {
			this.closed = true;
		});
		return this;
	}

	// Runs fn(channel) on a fresh channel and closes it afterwards.
	async withChannel(fn) {
		const ch = await this.conn.createChannel();
		ch.on('error', () => {});
		try {
			return await fn(ch);
		} finally {
			try {
				await ch.close();
			} catch {
				// closed by the broker already
			}
		}
	}

	// Number of ready messages in queue; throws if it does not exist.
	async count(queue) {
		return this.withChannel(async (ch) =>
		    (await ch.checkQueue(queue)).messageCount);
	}

	// Runs fn(channel) as withChannel does; false if it failed (a check
	// or delete of what does not exist), else true.
	async succeeds(fn) {
		try {
			await this.withChannel(fn);
			return true;
		} catch {
			return false;
		}
	}

	async queueExists(queue) {
		return this.succeeds((ch) => ch.checkQueue(queue));
	}

	async exchangeExists(exchange) {
		return this.succeeds((ch) => ch.checkExchange(exchange));
	}

	// Empties queue if it exists; returns how many messages it dropped.
	async purge(queue) {
		try {
			return await this.withChannel(async (ch) =>
			    (await ch.purgeQueue(queue)).messageCount);
		} catch {
			return 0;
		}
	}

	// Deletes queue; nothing happens if it does not exist.
	async deleteQueue(queue) {
		await this.succeeds((ch) => ch.deleteQueue(queue));
	}

	async deleteExchange(exchange) {
		await this.succeeds((ch) => ch.deleteExchange(exchange));
	}

	// Deletes what a test's sluiced declared: {exchange, unrouted, queue}.
	async deleteTopology(names, extraQueues = []) {
		for (const q of [names.queue, names.unrouted, ...extraQueues])
			await this.deleteQueue(q);
		await this.deleteExchange(names.exchange);
		await this.deleteExchange(names.unrouted);
	}

	// Declares a queue of our own bound to exchange with pattern.
	async bindQueue(queue, exchange, pattern) {
		await this.withChannel(async (ch) => {
			await ch.assertQueue(queue, { durable: false,
			    autoDelete: false });
			await ch.bindQueue(queue, exchange, pattern);
		});
	}

	// Takes every message in queue now (acked: they are gone afterwards).
	async drain(queue) {
		return this.withChannel(async (ch) => {
			const out = [];
			for (;;) {
				const msg = await ch.get(queue, { noAck: true });
				if (msg === false)
					return out;
				out.push(toMessage(msg));
			}
		});
	}

	/*
	 * Consumes n messages from queue, waiting at most timeout ms in all;
	 * throws (saying how many came) when fewer arrive. Consumed messages
	 * are acked. Extra messages beyond n stay in the queue.
	 */
	async collect(queue, n, { timeout = 10000 } = {}) {
		const ch = await this.conn.createChannel();
		ch.on('error', () => {});
		await ch.prefetch(Math.max(1, Math.min(n, 1000)));
		const got = [];
		let tag;
		try {
			await new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(
				    `collect ${queue}: ${got.length} of ${n} ` +
				    `messages in ${timeout} ms`)), timeout);
				if (n === 0) {
					clearTimeout(timer);
					resolve();
					return;
				}
				ch.consume(queue, (msg) => {
					if (msg === null) {
						clearTimeout(timer);
						reject(new Error(`collect ${queue}: ` +
						    'consumer cancelled'));
						return;
					}
					if (got.length >= n) {
						ch.nack(msg, false, true);
						return;
					}
					got.push(toMessage(msg));
					ch.ack(msg);
					if (got.length === n) {
						clearTimeout(timer);
						resolve();
					}
				}).then((r) => {
					tag = r.consumerTag;
				}, (e) => {
					clearTimeout(timer);
					reject(e);
				});
			});
		} finally {
			await closeConsumer(ch, tag);
		}
		return got;
	}

	/*
	 * Consumes from queue until every id in ids was seen (duplicates are
	 * counted), or timeout ms passed. Returns {messages, missing, dups}:
	 * messages by id (the first copy), the ids not seen, and how many
	 * copies beyond the first came. Messages with other ids are counted in
	 * others.
	 */
	async collectIds(queue, ids, { timeout = 30000 } = {}) {
		const want = new Set(ids);
		const seen = new Map();
		let dups = 0;
		let others = 0;
		const ch = await this.conn.createChannel();
		ch.on('error', () => {});
		await ch.prefetch(1000);
		let tag;
		try {
			await new Promise((resolve) => {
				const timer = setTimeout(resolve, timeout);
				const done = () => {
					if (seen.size === want.size) {
						clearTimeout(timer);
						resolve();
					}
				};
				ch.consume(queue, (msg) => {
					if (msg === null)
						return;
					ch.ack(msg);
					const m = toMessage(msg);
					const id = m.properties.messageId;
					if (!want.has(id))
						others++;
					else if (seen.has(id))
						dups++;
					else
						seen.set(id, m);
					done();
				}).then((r) => {
					tag = r.consumerTag;
					done();
				}, () => resolve());
			});
		} finally {
			await closeConsumer(ch, tag);
		}
		const missing = [...want].filter((id) => !seen.has(id));
		return { messages: seen, missing, dups, others };
	}

	async close() {
		if (this.closed || !this.conn)
			return;
		try {
			await this.conn.close();
		} catch {
			// the broker went away
		}
		this.closed = true;
	}
}

// A Broker connected to url (see Broker.open).
export function connect(url = AMQP_URL, opts = {}) {
	return new Broker().open(url, opts);
}

/*
 * The fixture of the tests of a file, or of the describe block it is called
 * in: node:test hooks around a Broker and the daemons the tests talk to.
 * before() connects the Broker and, unless opts is null, starts sluiced with
 * opts (see startSluiced). after() stops every daemon the fixture started,
 * deletes the topology each declared (and its extraQueues, if a test set
 * them) and closes the Broker, whatever failed on the way.
 *
 * Returns {s, broker, start}: the handle of the daemon started with opts and
 * the Broker, both empty until before() fills them in, and start(o), which
 * starts one more daemon (startSluiced(o)) cleaned up the same way.
 * Fixture options (all optional):
 *   names          the topology of daemons the tests start and stop
 *                  themselves, deleted in after() too
 *   purgeEach      the queues of names (default: of s) to empty before
 *                  each test, by key: ['queue'] or ['queue', 'unrouted']
 *   forceStop      a daemon that will not stop is SIGKILLed, quietly
 *   restoreBroker  for tests that take the broker down: before() does not
 *                  connect the Broker (the test opens it once the broker
 *                  is back; after() does if the test did not), and after()
 *                  first awaits restoreBroker() to bring the broker back
 *   skip           true (or a reason): the hooks do nothing
 */
export function useSluiced(opts, { names = null, purgeEach = [],
    forceStop = false, restoreBroker = null, skip = false } = {}) {
	const s = {};
	const broker = new Broker();
	const daemons = [];
	const start = async (o) => {
		const d = await startSluiced(o);
		daemons.push(d);
		return d;
	};

	before(async () => {
		if (skip)
			return;
		if (!restoreBroker)
			await broker.open();
		if (opts) {
			await startSluiced(opts, s);
			daemons.push(s);
		}
	});

	// Whatever a failed test left behind must not reach the next one.
	if (purgeEach.length > 0) {
		beforeEach(async () => {
			const topology = names || s.names;
			if (!broker.conn || !topology)
				return;
			for (const key of purgeEach)
				await broker.purge(topology[key]);
		});
	}

	after(async () => {
		if (skip)
			return;
		// Whatever happened, the next tests need the broker.
		if (restoreBroker)
			await restoreBroker();
		let failure = null;
		for (const d of daemons) {
			try {
				if (forceStop)
					await d.stop().catch(() => d.kill());
				else
					await d.stop();
			} catch (e) {
				failure ??= e;
			}
		}
		if (restoreBroker && !broker.conn)
			await broker.open();
		if (broker.conn) {
			if (names)
				await broker.deleteTopology(names);
			for (const d of daemons)
				await broker.deleteTopology(d.names,
				    d.extraQueues || []);
			await broker.close();
		}
		if (failure)
			throw failure;
	});

	return { s, broker, start };
}
