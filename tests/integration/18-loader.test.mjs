// 18-loader: sluice-loader against a real sluiced, RabbitMQ and PostgreSQL.
// What sluiced accepted lands in the events table exactly once, field by
// field as the envelope had it, even when the same id is posted twice and
// when the loader is SIGKILLed mid-batch and restarted again and again;
// messages that are not envelopes, and rows the database refuses, go to the
// dead-letter queue while the rest load; --once drains and exits; SIGTERM
// loads the batch in hand; both connections come back after they drop;
// the queue is declared by whichever of sluiced and the loader comes first.
// Skipped, saying why, when PostgreSQL is not installed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	RABBITMQ_NODE, SRCDIR, metrics, post, sleep, uniqueNames, waitFor,
} from '../lib/sluiced.mjs';
import {
	LOADER, SKIP, createDatabase, dropDatabases, loaderSummary, psql,
	psqlValue, runLoader, startLoader, waitRows,
} from './18-loader-lib.mjs';

// Each test starts the daemons it needs; after() stops them and deletes
// their topologies and the dead-letter queues they name in extraQueues.
const { broker, start } = useSluiced(null, { skip: SKIP });
after(() => {
	if (!SKIP)
		dropDatabases();
});

// Starts sluiced with a topology of its own; its dead-letter queue is
// deleted with it.
async function startSluiced(name, opts = {}) {
	const d = await start({ name, waitReady: true, ...opts });
	d.extraQueues = [`${d.names.queue}.dead`];
	return d;
}

async function postOk(d, events, headers = {}) {
	const r = await post(d.url, events, { key: d.key, headers });
	assert.equal(r.status, 202, r.text);
	return r.json.ids;
}

// The rows of the events table, by id, as JSON (NULL is null, times as
// ISO-8601 UTC strings with ms).
function rowsById(db) {
	const iso = (c) => `to_char(${c} AT TIME ZONE 'UTC', ` +
	    `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
	const text = psqlValue(db, `SELECT coalesce(json_object_agg(id,
	    json_build_object('app', app, 'channel', channel, 'event', event,
	    'data', data, 'timestamp', ${iso('"timestamp"')},
	    'received_at', ${iso('received_at')},
	    'client_timestamp', ${iso('client_timestamp')},
	    'client_sent_at', ${iso('client_sent_at')},
	    'ip', host(ip), 'user_agent', user_agent, 'origin', origin,
	    'source', source)), '{}') FROM events`);
	return JSON.parse(text);
}

// A regular expression matching the text s as it is.
function literal(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// A client time as the row holds it: ISO-8601 UTC with ms, or null.
function clientTime(v) {
	return v === null || v === undefined ? null :
	    new Date(v).toISOString();
}

// jsonb holds no NUL: the loader puts U+FFFD in its place.
function withoutNul(v) {
	return JSON.parse(JSON.stringify(v).replaceAll('\\u0000', '\\ufffd'));
}

describe('sluice-loader', { skip: SKIP }, () => {
	it('loads every field of every envelope, each id once', async (t) => {
		const d = await startSluiced('ldr-fields');
		const db = createDatabase('fields');
		// A queue of ours sees the envelopes the loader loads.
		const copy = `${d.names.prefix}.copy`;
		d.extraQueues.push(copy);
		await broker.bindQueue(copy, d.names.exchange, '#');
		const l = startLoader({ queue: d.names.queue, postgres: db,
		    batch_size: 50, batch_ms: 100 });
		const dup = `dup-${randomUUID()}`;
		const events = [
			{ id: `f-${randomUUID()}`, event: 'signup', data: {
			    plan: 'pro', nested: { a: [1, 2.5, { b: null }],
			    t: true } } },
			{ event: 'text', channel: 'game-1', data: {
			    tab: 'a\tb', nl: 'line\nnext', cr: 'x\ry',
			    back: 'back\\slash \\N \\.', nul: 'nul\u0000byte',
			    quote: 'say "hi"', uni: 'caf\u00e9 \u{1F600} \u2028' } },
			{ event: 'times', timestamp: '2026-11-22T10:00:00.250+01:00',
			    sent_at: Date.parse('2026-11-22T09:00:01.000Z') },
			{ event: 'only-timestamp', timestamp: 1767261600000,
			    data: 'a string' },
			{ event: 'no-data' },
			{ id: dup, event: 'first', data: { copy: 1 } },
		];
		const agent = 'test-agent/1.0 (tab\there; "quoted")';
		const ids = await postOk(d, events, { 'User-Agent': agent,
		    Origin: 'https://allowed.example' });
		// The same id again, in a request of its own: it comes second.
		await postOk(d, [{ id: dup, event: 'second', data: { copy: 2 } }]);
		const envelopes = (await broker.collect(copy, events.length + 1))
		    .map((m) => m.body);
		await waitRows(db, events.length);

		const rows = rowsById(db);
		assert.deepEqual(Object.keys(rows).sort(), [...ids].sort());
		for (const env of envelopes) {
			const row = rows[env.id];
			if (env.id === dup && env.event === 'second') {
				// Skipped: the first copy is the one kept.
				assert.equal(row.event, 'first');
				assert.deepEqual(row.data, { copy: 1 });
				continue;
			}
			assert.deepEqual(row, {
				app: env.app, channel: env.channel, event: env.event,
				data: withoutNul(env.data), timestamp: env.timestamp,
				received_at: env.received_at,
				client_timestamp: clientTime(env.client_timestamp),
				client_sent_at: clientTime(env.client_sent_at),
				ip: env.ip, user_agent: env.user_agent,
				origin: env.origin, source: env.source,
			}, `row of ${env.id}`);
		}
		// What the test sent, as it should read in the table.
		const text = rows[ids[1]];
		assert.equal(text.data.tab, 'a\tb');
		assert.equal(text.data.back, 'back\\slash \\N \\.');
		assert.equal(text.data.nul, 'nul\ufffdbyte');
		assert.equal(text.data.uni, 'caf\u00e9 \u{1F600} \u2028');
		assert.equal(text.user_agent, agent);
		assert.equal(text.origin, 'https://allowed.example');
		assert.equal(text.ip, '127.0.0.1');
		assert.equal(text.source, 'http');
		const times = rows[ids[2]];
		assert.equal(times.client_timestamp, '2026-11-22T09:00:00.250Z');
		assert.equal(times.client_sent_at, '2026-11-22T09:00:01.000Z');
		// Skew corrected: received_at - (sent_at - timestamp).
		assert.equal(Date.parse(times.timestamp),
		    Date.parse(times.received_at) - 750);
		assert.equal(rows[ids[4]].data, null);

		assert.equal(await l.stop(), 0);
		const sum = loaderSummary(l.log());
		t.diagnostic(JSON.stringify(sum));
		assert.deepEqual(sum, { how: 'stopped', messages: 7,
		    loaded: 6, duplicates: 1, dead: 0 });
		assert.equal(await broker.count(d.names.queue), 0);
		assert.equal(await broker.count(`${d.names.queue}.dead`), 0);
	});

	it('SIGKILLed mid-batch and restarted 6 times: every event once',
	    async (t) => {
		const d = await startSluiced('ldr-kill');
		const db = createDatabase('kill');
		// Each row takes a millisecond at COMMIT (a deferred trigger),
		// so that a kill can land between the COMMIT and the ack: the
		// server finishes the COMMIT without its client, and the
		// messages come again to a loader that finds their rows.
		psql(db, `CREATE FUNCTION slow_commit() RETURNS trigger
		    LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.001);
		    RETURN NULL; END $$;
		    CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON events
		    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
		    EXECUTE FUNCTION slow_commit()`);
		const committing = () => psqlValue(db, 'SELECT count(*) FROM ' +
		    "pg_stat_activity WHERE application_name = 'sluice-loader' " +
		    "AND datname = current_database() AND state = 'active' " +
		    "AND query = 'COMMIT'") === '1';
		const keys = { queue: d.names.queue, postgres: db,
		    batch_size: 100, batch_ms: 20 };
		const requests = 30;
		const perRequest = 100;
		const ids = [];
		let loader = startLoader(keys);
		const logs = [];
		let posting = true;
		const poster = (async () => {
			try {
				for (let i = 0; i < requests; i++) {
					const events = [];
					for (let k = 0; k < perRequest; k++)
						events.push({ id: `k${i}-${k}-` +
						    randomUUID().slice(0, 8),
						    event: 'tick', data: { i, k } });
					ids.push(...await postOk(d, events));
					await sleep(15);
				}
			} finally {
				posting = false;
			}
		})();
		let kills = 0;
		while (kills < 6) {
			// Half the kills at a random moment while events keep
			// coming, half while the loader's COMMIT runs.
			if (kills % 2 === 0)
				await sleep(100 + Math.floor(Math.random() * 200));
			else
				await waitFor(committing, { interval: 5,
				    timeout: 20000, what: 'a COMMIT under way' });
			logs.push(loader.log());
			assert.equal(await loader.kill(), 'SIGKILL');
			kills++;
			loader = startLoader(keys);
		}
		await poster;
		assert.equal(posting, false);
		assert.equal(ids.length, requests * perRequest);
		await waitRows(db, ids.length, { timeout: 90000 });
		assert.equal(await loader.stop(), 0);
		logs.push(loader.log());

		const got = psql(db, 'SELECT id FROM events').map((r) => r[0]);
		assert.equal(got.length, ids.length, 'rows');
		assert.deepEqual(new Set(got), new Set(ids));
		assert.equal(await broker.count(d.names.queue), 0);
		assert.equal(await broker.count(`${d.names.queue}.dead`), 0);
		// How many rows came again after a kill and were skipped
		// (the batches each loader logged).
		let again = 0;
		for (const log of logs) {
			for (const m of log.matchAll(
			    /batch of (\d+) acknowledged: (\d+) rows new/g))
				again += Number(m[1]) - Number(m[2]);
		}
		t.diagnostic(`${kills} kills; ${again} rows delivered again ` +
		    'and skipped');
		assert.ok(again > 0, 'a kill between COMMIT and ack left rows ' +
		    'that came again');
	});

	it('invalid messages go to the dead-letter queue; the rest load',
	    async () => {
		const names = uniqueNames('ldr-poison');
		const queue = names.queue;
		const dead = `${queue}.dead`;
		const db = createDatabase('poison');
		const now = new Date().toISOString();
		const envelope = (id) => JSON.stringify({ id, app: 'web',
		    channel: 'events', event: 'ok', data: { id },
		    received_at: now, timestamp: now, client_timestamp: null,
		    client_sent_at: null, ip: '192.0.2.1', user_agent: 'ua',
		    origin: null, source: 'http' });
		const poison = [
			['p-text', Buffer.from('not json at all')],
			['p-array', Buffer.from('[1,2,3]')],
			['p-empty', Buffer.alloc(0)],
			['p-noid', Buffer.from(JSON.stringify({ app: 'web' }))],
			['p-time', Buffer.from(envelope('p-time').replace(
			    /"received_at":"[^"]*"/, '"received_at":"yesterday"'))],
			['p-utf8', Buffer.concat([Buffer.from('{"id":"bad'),
			    Buffer.from([0xff]), Buffer.from('",' +
			    envelope('x').slice('{"id":"x",'.length))])],
			['p-nul', Buffer.from(envelope('a\u0000b'))],
		];
		const good = [];
		try {
			await broker.withChannel(async (ch) => {
				await ch.assertQueue(queue, { durable: true });
				for (let i = 0; i < 100; i++) {
					const id = `g-${i}`;
					good.push(id);
					ch.sendToQueue(queue, Buffer.from(envelope(id)),
					    { persistent: true, messageId: id });
					if (i % 15 === 7) {
						const [pid, body] = poison[(i - 7) / 15];
						ch.sendToQueue(queue, body, {
						    persistent: true, messageId: pid });
					}
				}
				await waitFor(async () => (await ch.checkQueue(
				    queue)).messageCount === 107);
			});
			const r = await runLoader({ queue, postgres: db,
			    batch_size: 40, batch_ms: 50 }, ['--once']);
			assert.equal(r.code, 0, r.log);
			assert.deepEqual(loaderSummary(r.log), { how: 'drained',
			    messages: 107, loaded: 100, duplicates: 0, dead: 7 });
			const ids = psql(db, 'SELECT id FROM events')
			    .map((row) => row[0]);
			assert.deepEqual(new Set(ids), new Set(good));
			assert.equal(await broker.count(queue), 0);
			const letters = await broker.drain(dead);
			assert.deepEqual(letters.map((m) =>
			    m.properties.messageId).sort(),
			    poison.map(([id]) => id).sort());
			for (const m of letters) {
				const [, body] = poison.find(([id]) =>
				    id === m.properties.messageId);
				assert.equal(Buffer.compare(Buffer.from(m.raw,
				    'utf8'), Buffer.from(body.toString('utf8'))),
				    0, m.properties.messageId);
				const h = m.properties.headers;
				assert.equal(String(h['x-sluice-queue']), queue);
				assert.ok(String(h['x-sluice-error']).length > 0);
				assert.equal(m.properties.deliveryMode, 2);
			}
			const why = Object.fromEntries(letters.map((m) =>
			    [m.properties.messageId,
			    String(m.properties.headers['x-sluice-error'])]));
			assert.match(why['p-text'], /not JSON/);
			assert.match(why['p-array'], /not a JSON object/);
			assert.match(why['p-empty'], /empty/);
			assert.match(why['p-noid'], /id: missing/);
			assert.match(why['p-time'], /received_at/);
			assert.match(why['p-utf8'], /id: not valid UTF-8/);
			assert.match(why['p-nul'], /id: not valid UTF-8, or holds a NUL/);
			// Logged, with the reason.
			assert.match(r.log, /message p-text \(delivery \d+\) to \S+\.dead: not JSON/);
		} finally {
			await broker.deleteQueue(queue);
			await broker.deleteQueue(dead);
		}
	});

	it('rows the database refuses go to the dead-letter queue; the ' +
	    'rest of their batch loads', async () => {
		const d = await startSluiced('ldr-refuse');
		const db = createDatabase('refuse');
		psql(db, "ALTER TABLE events ADD CONSTRAINT no_boom " +
		    "CHECK (event <> 'boom')");
		const events = [];
		for (let i = 0; i < 30; i++)
			events.push({ id: `r-${i}`, event: i % 10 === 5 ? 'boom' :
			    'fine' });
		await postOk(d, events);
		await waitFor(async () => await broker.count(d.names.queue) ===
		    30, { what: '30 messages in the queue' });
		const r = await runLoader({ queue: d.names.queue, postgres: db,
		    batch_size: 100, batch_ms: 5000 }, ['--once']);
		assert.equal(r.code, 0, r.log);
		assert.deepEqual(loaderSummary(r.log), { how: 'drained',
		    messages: 30, loaded: 27, duplicates: 0, dead: 3 });
		assert.match(r.log, /the database refused a batch of 30 rows/);
		assert.equal(Number(psqlValue(db, "SELECT count(*) FROM events " +
		    "WHERE event = 'fine'")), 27);
		assert.equal(Number(psqlValue(db, 'SELECT count(*) FROM events')),
		    27);
		const letters = await broker.drain(`${d.names.queue}.dead`);
		assert.deepEqual(letters.map((m) => m.body.id).sort(),
		    ['r-15', 'r-25', 'r-5']);
		for (const m of letters)
			assert.match(String(m.properties.headers['x-sluice-error']),
			    /^refused by the database: .*no_boom/);
	});

	it('--once drains the queue and exits 0, and again on an empty ' +
	    'queue', async () => {
		const d = await startSluiced('ldr-once');
		const db = createDatabase('once');
		const ids = [];
		for (let i = 0; i < 10; i++) {
			const events = Array.from({ length: 100 }, (_, k) => ({
			    id: `o${i}-${k}`, event: 'tick' }));
			ids.push(...await postOk(d, events));
		}
		await waitFor(async () => await broker.count(d.names.queue) ===
		    1000, { what: '1000 messages in the queue' });
		let r = await runLoader({ queue: d.names.queue, postgres: db,
		    batch_size: 300, batch_ms: 60000 }, ['--once']);
		assert.equal(r.code, 0, r.log);
		assert.deepEqual(loaderSummary(r.log), { how: 'drained',
		    messages: 1000, loaded: 1000, duplicates: 0, dead: 0 });
		assert.equal(Number(psqlValue(db, 'SELECT count(*) FROM events')),
		    1000);
		assert.equal(await broker.count(d.names.queue), 0);
		r = await runLoader({ queue: d.names.queue, postgres: db },
		    ['--once']);
		assert.equal(r.code, 0, r.log);
		assert.deepEqual(loaderSummary(r.log), { how: 'drained',
		    messages: 0, loaded: 0, duplicates: 0, dead: 0 });
	});

	it('--once exits 1 when the database cannot be reached', async () => {
		const d = await startSluiced('ldr-nodb');
		await postOk(d, [{ event: 'kept' }]);
		await waitFor(async () => await broker.count(d.names.queue) === 1);
		const r = await runLoader({ queue: d.names.queue,
		    postgres: 'postgresql://nobody@127.0.0.1:1/none' },
		    ['--once']);
		assert.equal(r.code, 1, r.log);
		assert.match(r.log, /pg: cannot connect/);
		// Nothing was taken from the queue.
		assert.equal(await broker.count(d.names.queue), 1);
	});

	it('SIGTERM loads the batch in hand, acknowledges it, exits 0',
	    async () => {
		const d = await startSluiced('ldr-term');
		const db = createDatabase('term');
		const l = startLoader({ queue: d.names.queue, postgres: db,
		    batch_size: 1000, batch_ms: 600000 });
		await waitFor(() => /amqp: connected/.test(l.log()),
		    { what: 'the loader connected' });
		await postOk(d, Array.from({ length: 10 }, (_, i) => ({
		    id: `t-${i}`, event: 'tick' })));
		// All ten in the queue (the broker confirmed them to sluiced),
		// and none of them ready: the loader holds them.
		await waitFor(async () => (await metrics(d)).get(
		    'sluice_journal_unconfirmed_records') === 0,
		    { what: 'sluiced forwarded the events' });
		await waitFor(async () => await broker.count(d.names.queue) === 0,
		    { what: 'the loader holding the messages' });
		await sleep(300);
		assert.equal(Number(psqlValue(db, 'SELECT count(*) FROM events')),
		    0, 'nothing loaded before SIGTERM');
		assert.equal(await l.stop('SIGTERM'), 0);
		assert.equal(Number(psqlValue(db, 'SELECT count(*) FROM events')),
		    10);
		assert.deepEqual(loaderSummary(l.log()), { how: 'stopped',
		    messages: 10, loaded: 10, duplicates: 0, dead: 0 });
		// Acknowledged: nothing went back to the queue.
		assert.equal(await broker.count(d.names.queue), 0);
	});

	it('connects again after the database or the broker drops it',
	    async () => {
		const d = await startSluiced('ldr-reconnect');
		const db = createDatabase('reconnect');
		const l = startLoader({ queue: d.names.queue, postgres: db,
		    batch_size: 100, batch_ms: 50 });
		let n = 0;
		const postSome = async () => {
			await postOk(d, Array.from({ length: 10 }, () => ({
			    id: `c-${n++}`, event: 'tick' })));
			await waitRows(db, n);
		};
		await postSome();
		assert.equal(psqlValue(db, 'SELECT count(pg_terminate_backend(pid)) ' +
		    'FROM (SELECT pid FROM pg_stat_activity WHERE ' +
		    "application_name = 'sluice-loader' AND " +
		    'datname = current_database()) s'), '1');
		await postSome();
		assert.match(l.log(), /pg: loading a batch of \d+ rows failed/);
		assert.equal((l.log().match(/pg: connected/g) || []).length, 2);
		if (process.env.SLUICE_TEST_RABBITMQ_DIR) {
			// The broker closes the loader's connection (found by
			// the connection_name it gives).
			const ctl = (...args) => spawnSync(RABBITMQ_NODE, ['ctl',
			    process.env.SLUICE_TEST_RABBITMQ_DIR, ...args],
			    { encoding: 'utf8', timeout: 60000 });
			const list = ctl('list_connections', '-q', 'pid',
			    'client_properties');
			const line = list.stdout.split('\n').find((s) =>
			    s.includes(`sluice-loader ${d.names.queue}"`));
			assert.ok(line, `the loader's connection in:\n${list.stdout}`);
			const closed = ctl('close_connection', line.split('\t')[0],
			    'a test closes it');
			assert.equal(closed.status, 0, closed.stderr);
			await waitFor(() => (l.log().match(/amqp: connected/g) ||
			    []).length === 2, { what: 'the loader back on the broker' });
			assert.match(l.log(), /amqp: connection lost: closed by the broker: 320/);
			await postSome();
		}
		assert.equal(await l.stop(), 0);
		assert.equal(Number(psqlValue(db, 'SELECT count(DISTINCT id) ' +
		    'FROM events')), n);
	});

	it('works whichever of sluiced and the loader declares the queue',
	    async () => {
		// The loader first: it declares the quorum queue ([amqp]
		// queue_type is its default), sluiced then declares the same.
		const names = uniqueNames('ldr-first');
		const db = createDatabase('first');
		const l = startLoader({ queue: names.queue, postgres: db,
		    batch_ms: 50 }, [], { sections: { amqp: {
		    queue_type: 'quorum' } } });
		await waitFor(() => /amqp: connected/.test(l.log()),
		    { what: 'the loader connected' });
		assert.match(l.log(), new RegExp(`declared queue ` +
		    `${literal(names.queue)}$`, 'm'));
		const d = await startSluiced('ldr-first', { names, amqp: {
		    queue_type: 'quorum' } });
		await postOk(d, [{ id: 'q-1', event: 'tick' }]);
		await waitRows(db, 1);
		assert.equal(await l.stop(), 0);
		await d.stop();

		// sluiced first with a quorum queue, the loader (classic by
		// default) takes it as it is.
		const d2 = await startSluiced('ldr-second', { amqp: {
		    queue_type: 'quorum' } });
		const db2 = createDatabase('second');
		await postOk(d2, [{ id: 'q-2', event: 'tick' }]);
		const r = await runLoader({ queue: d2.names.queue, postgres: db2 },
		    ['--once']);
		assert.equal(r.code, 0, r.log);
		assert.doesNotMatch(r.log, new RegExp(`declared queue ` +
		    `${literal(d2.names.queue)}$`, 'm'));
		assert.equal(psqlValue(db2, 'SELECT id FROM events'), 'q-2');
	});

	it('-n checks the configuration: the shipped file, and errors as ' +
	    'file:line', async () => {
		let r = spawnSync(LOADER, ['-n', '-c', path.join(SRCDIR, 'conf',
		    'sluiced.conf')], { encoding: 'utf8' });
		assert.equal(r.status, 0, r.stderr);
		assert.equal(r.stdout, 'configuration OK\n');
		const l = startLoader({ queue: 'q', postgres: '', batch_size: 0,
		    bogus: 1 }, ['-n']);
		assert.equal(await l.exited, 1);
		assert.match(l.log(), /loader\.conf:\d+: \[loader\] batch_size: must be a number from 1 to 65535/);
		assert.match(l.log(), /loader\.conf:\d+: \[loader\]: unknown key "bogus"/);
		r = spawnSync(LOADER, ['-n', '-c', '/dev/null', '-b', '10', '-p',
		    '5'], { encoding: 'utf8' });
		assert.equal(r.status, 1);
		assert.match(r.stderr, /prefetch \(5\) must be at least batch_size \(10\)/);
		r = spawnSync(LOADER, ['--bogus'], { encoding: 'utf8' });
		assert.equal(r.status, 2);
		assert.match(r.stderr, /usage: sluice-loader/);
	});
});
