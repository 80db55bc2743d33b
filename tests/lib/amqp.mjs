// tests/lib/amqp.mjs: reading what sluiced published, with amqplib.
//
// connect() returns a Broker on SLUICE_TEST_AMQP_URL. Each operation uses a
// channel of its own, so a failed check (a 404 on a missing queue closes
// its channel) does not spoil the others. Every wait is bounded.

import amqplib from 'amqplib';

import { AMQP_URL } from './sluiced.mjs';

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

export class Broker {
	constructor(conn) {
		this.conn = conn;
		this.closed = false;
		conn.on('error', () => {});
		conn.on('close', () => {
			this.closed = true;
		});
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

	async queueExists(queue) {
		try {
			await this.withChannel((ch) => ch.checkQueue(queue));
			return true;
		} catch {
			return false;
		}
	}

	async exchangeExists(exchange) {
		try {
			await this.withChannel((ch) => ch.checkExchange(exchange));
			return true;
		} catch {
			return false;
		}
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

	async deleteQueue(queue) {
		try {
			await this.withChannel((ch) => ch.deleteQueue(queue));
		} catch {
			// did not exist
		}
	}

	async deleteExchange(exchange) {
		try {
			await this.withChannel((ch) => ch.deleteExchange(exchange));
		} catch {
			// did not exist
		}
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
			try {
				if (tag)
					await ch.cancel(tag);
				await ch.close();
			} catch {
				// gone already
			}
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
			try {
				if (tag)
					await ch.cancel(tag);
				await ch.close();
			} catch {
				// gone already
			}
		}
		const missing = [...want].filter((id) => !seen.has(id));
		return { messages: seen, missing, dups, others };
	}

	async close() {
		if (this.closed)
			return;
		try {
			await this.conn.close();
		} catch {
			// the broker went away
		}
		this.closed = true;
	}
}

// Connects to url (default SLUICE_TEST_AMQP_URL), retrying for timeout ms.
export async function connect(url = AMQP_URL, { timeout = 15000 } = {}) {
	const deadline = Date.now() + timeout;
	for (;;) {
		try {
			const conn = await amqplib.connect(url, { timeout: 5000 });
			return new Broker(conn);
		} catch (e) {
			if (Date.now() > deadline)
				throw new Error(`cannot connect to ${url}: ${e.message}`);
			await new Promise((r) => setTimeout(r, 250));
		}
	}
}
