// 32-ws-presence-churn: presence under churn, slow (about 75 s; it runs in
// make check all the same). 2,000 raw Pusher connections of 1,500 users
// (so some users have two) join and leave one presence channel at random
// for 60 s, by unsubscribing or by closing and coming back on a new
// connection; each subscriber keeps its member list from
// subscription_succeeded, member_added and member_removed. At the end:
// no event contradicted a subscriber's list (an add of a member it had, a
// remove of one it did not), every remaining subscriber's list equals what
// a fresh subscriber gets (the server's), which equals the users that have
// a subscribed connection; and sluiced's resident memory is within 10% of
// what it was after the warm-up. Raw `ws` clients, signed by the pusher
// server SDK, keep the test light enough for 2 cores.
//
// SLUICE_TEST_CHURN_SECONDS shortens or lengthens the churn (default 60).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';

import WebSocket from 'ws';

import { useSluiced } from '../lib/amqp.mjs';
import { sleep, waitFor } from '../lib/sluiced.mjs';
import { appUrl, signPresence } from '../lib/ws.mjs';

const CONNECTIONS = 2000;
const USERS = 1500;
const SECONDS = Number(process.env.SLUICE_TEST_CHURN_SECONDS || 60);
const WARMUP_SECONDS = Math.max(1, Math.round(SECONDS / 6));
const ACTIONS_PER_SECOND = 80;	// joins and leaves over all connections
const CLOSE_SHARE = 0.3;	// of leaves, by closing the connection
const CHANNEL = 'presence-churn';

const APP = { id: 'churn', key: 'churn-key-0001',
    secret: 'churn-secret-0123456789', presence_max_members: 10000 };

const { s } = useSluiced({ name: 'ws-churn', waitWs: true, apps: [APP] });

// The soft limit of open files of this process.
function openFileLimit() {
	const text = fs.readFileSync('/proc/self/limits', 'utf8');
	const line = text.split('\n').find((l) => l.startsWith(
	    'Max open files'));
	const soft = line.split(/\s{2,}/)[1];
	return soft === 'unlimited' ? Infinity : Number(soft);
}

// The resident memory of process pid, in KiB.
function rssKiB(pid) {
	const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/^VmRSS:\s+(\d+)/m.exec(text)[1]);
}

/*
 * One connection of user: opens, answers pings, subscribes and leaves on
 * demand, and keeps the member list it was told (members: user_id ->
 * user_info, null unless subscribed). state: 'idle', 'joining' (subscribe
 * sent), 'subscribed', 'leaving' (unsubscribe sent, its ping's pong not
 * yet back), 'closing' (closed, a new connection to come).
 * Contradictions and errors go to the shared report.
 */
class Member {
	constructor(index, report) {
		this.index = index;
		this.user = `user-${index % USERS}`;
		this.info = { n: index % USERS };
		this.report = report;
		this.state = 'idle';
		this.members = null;
		this.ws = null;
		this.socketId = null;
	}

	// Opens a connection; resolves once connection_established came.
	open() {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(appUrl(s, { key: APP.key }));
			this.ws = ws;
			this.socketId = null;
			ws.on('message', (raw) => this.onMessage(raw, resolve));
			ws.on('error', (e) => reject(e));
			ws.on('close', (code) => {
				if (this.ws === ws && this.state !== 'closing')
					this.report.closes.push(`${this.index}: ${code}`);
				if (this.ws === ws)
					this.ws = null;
			});
		});
	}

	onMessage(raw, established) {
		const m = JSON.parse(raw.toString('utf8'));
		const data = typeof m.data === 'string' ? JSON.parse(m.data) :
		    m.data;
		const r = this.report;
		switch (m.event) {
		case 'pusher:connection_established':
			this.socketId = data.socket_id;
			established();
			return;
		case 'pusher:ping':
			this.ws.send('{"event":"pusher:pong","data":{}}');
			return;
		case 'pusher:pong':
			if (this.state === 'leaving')
				this.state = 'idle';
			return;
		case 'pusher_internal:subscription_succeeded':
			if (this.state !== 'joining') {
				r.contradictions.push(`${this.index}: a success in ` +
				    `state ${this.state}`);
				return;
			}
			this.members = new Map(data.presence.ids.map((id) =>
			    [String(id), data.presence.hash[id]]));
			if (data.presence.count !== this.members.size)
				r.contradictions.push(`${this.index}: count ` +
				    `${data.presence.count} for ${this.members.size} ids`);
			if (!this.members.has(this.user))
				r.contradictions.push(`${this.index}: itself not in ` +
				    'its subscription_succeeded');
			this.state = 'subscribed';
			r.joins++;
			return;
		case 'pusher_internal:member_added':
			r.memberEvents++;
			if (this.state !== 'subscribed')
				return;	// before its snapshot, or after it left
			if (this.members.has(String(data.user_id)))
				r.contradictions.push(`${this.index}: member_added ` +
				    `${data.user_id}, a member already`);
			this.members.set(String(data.user_id), data.user_info);
			return;
		case 'pusher_internal:member_removed':
			r.memberEvents++;
			if (this.state !== 'subscribed')
				return;
			if (!this.members.delete(String(data.user_id)))
				r.contradictions.push(`${this.index}: member_removed ` +
				    `${data.user_id}, not a member`);
			return;
		default:
			r.errors.push(`${this.index}: ${raw.toString('utf8')
			    .slice(0, 300)}`);
		}
	}

	join() {
		this.state = 'joining';
		const signed = signPresence(APP, this.socketId, CHANNEL,
		    { user_id: this.user, user_info: this.info });
		this.ws.send(JSON.stringify({ event: 'pusher:subscribe', data: {
		    channel: CHANNEL, auth: signed.auth,
		    channel_data: signed.channel_data } }));
	}

	// Unsubscribes; a ping after it says when the server has done it.
	leave() {
		this.state = 'leaving';
		this.members = null;
		this.report.leaves++;
		this.ws.send(JSON.stringify({ event: 'pusher:unsubscribe',
		    data: { channel: CHANNEL } }));
		this.ws.send('{"event":"pusher:ping","data":{}}');
	}

	// Closes the connection (leaving the channel if it was in it) and
	// comes back on a new one.
	async reconnect() {
		const wasIn = this.state === 'subscribed';
		this.state = 'closing';
		this.members = null;
		this.report.closed++;
		if (wasIn)
			this.report.leaves++;
		const ws = this.ws;
		await new Promise((resolve) => {
			ws.once('close', resolve);
			ws.close(1000);
		});
		await this.open();
		this.state = 'idle';
	}

	// One random step: a join, or a leave.
	step() {
		if (this.state === 'idle') {
			this.join();
		} else if (this.state === 'subscribed') {
			if (Math.random() < CLOSE_SHARE)
				this.reconnect().catch((e) => this.report.errors.push(
				    `${this.index}: reconnect: ${e.message}`));
			else
				this.leave();
		}
	}

	get busy() {
		return ['joining', 'leaving', 'closing'].includes(this.state);
	}

	terminate() {
		this.state = 'closing';
		if (this.ws)
			this.ws.terminate();
	}
}

/*
 * Runs random steps at ACTIONS_PER_SECOND for seconds, then waits until
 * no connection has a step in flight.
 */
async function churn(members, seconds, samples) {
	const start = Date.now();
	const end = start + seconds * 1000;
	let done = 0;
	let sampled = start;
	// As many steps as the time gone by owes, however late a tick.
	while (Date.now() < end) {
		if (Date.now() - sampled >= 5000) {
			sampled = Date.now();
			samples.push(rssKiB(s.pid));
		}
		const owed = Math.floor((Date.now() - start) *
		    ACTIONS_PER_SECOND / 1000);
		for (; done < owed; done++) {
			const m = members[Math.floor(Math.random() *
			    members.length)];
			m.step();
		}
		await sleep(10);
	}
	await waitFor(() => !members.some((m) => m.busy), { timeout: 30000,
	    what: () => `quiet (${members.filter((m) => m.busy).length} ` +
	    'connections with a step in flight)' });
}

describe('presence churn', () => {
	it(`${CONNECTIONS} connections join and leave one presence channel ` +
	    `for ${SECONDS} s`, { timeout: 60000 + SECONDS * 1000 * 2 },
	    async (t) => {
		const limit = openFileLimit();
		if (limit < CONNECTIONS + 200) {
			t.skip(`${CONNECTIONS} connections need more open ` +
			    `files than this process may have (${limit})`);
			return;
		}
		const report = { contradictions: [], errors: [], closes: [],
		    joins: 0, leaves: 0, closed: 0, memberEvents: 0, rss: [] };
		const members = [];
		for (let i = 0; i < CONNECTIONS; i++)
			members.push(new Member(i, report));
		let probe = null;
		const tStart = Date.now();
		try {
			for (let i = 0; i < CONNECTIONS; i += 100)
				await Promise.all(members.slice(i, i + 100).map((m) =>
				    m.open()));
			// Half of them in to start with, the share the churn
			// keeps: the memory after the warm-up and at the end
			// are of the same load.
			for (let i = 0; i < CONNECTIONS; i += 100) {
				for (const m of members.slice(i, i + 100)) {
					if (Math.random() < 0.5)
						m.join();
				}
				await waitFor(() => !members.some((m) => m.busy),
				    { timeout: 30000, what: 'the first joins' });
			}
			const t0 = Date.now();
			await churn(members, WARMUP_SECONDS, report.rss);
			// Queued member events drain before a reading.
			await sleep(1000);
			const rss0 = rssKiB(s.pid);
			const in0 = members.filter((m) => m.state ===
			    'subscribed').length;
			await churn(members, SECONDS - WARMUP_SECONDS, report.rss);
			await sleep(1000);
			const rss1 = rssKiB(s.pid);

			// The server's view: what a fresh subscriber is told.
			probe = new Member(CONNECTIONS, report);
			probe.user = 'probe';
			await probe.open();
			probe.join();
			await waitFor(() => probe.state === 'subscribed',
			    { what: 'the probe\'s subscription' });
			const server = new Set(probe.members.keys());
			const subscribed = members.filter((m) => m.state ===
			    'subscribed');
			// Once each has heard of the probe, it heard all before.
			await waitFor(() => subscribed.every((m) =>
			    m.members.has('probe')), { timeout: 20000,
			    what: 'every subscriber told of the probe' });

			t.diagnostic(`joins ${report.joins}, leaves ` +
			    `${report.leaves} (${report.closed} by closing), ` +
			    `member events ${report.memberEvents}; subscribed ` +
			    `${in0} after the warm-up, ${subscribed.length} at ` +
			    `the end; RSS ${rss0} KiB after the warm-up, ` +
			    `${rss1} KiB at the end (every 5 s: ${report.rss}); ` +
			    `set up in ${t0 - tStart} ms`);
			assert.deepEqual(report.contradictions.slice(0, 10), []);
			assert.deepEqual(report.errors.slice(0, 10), []);
			assert.deepEqual(report.closes.slice(0, 10), [],
			    'connections the server closed');
			assert.ok(report.joins > ACTIONS_PER_SECOND * SECONDS / 4,
			    `only ${report.joins} joins`);

			// The truth: users with a subscribed connection.
			const truth = new Set(subscribed.map((m) => m.user));
			truth.add('probe');
			assert.deepEqual([...server].sort(), [...truth].sort(),
			    'the server\'s members are not the users subscribed');
			let wrong = 0;
			let example = null;
			for (const m of subscribed) {
				const mine = [...m.members.keys()].sort();
				if (mine.length !== server.size ||
				    mine.some((id) => !server.has(id))) {
					wrong++;
					example ??= { index: m.index, missing: [...server]
					    .filter((id) => !m.members.has(id)),
					    extra: mine.filter((id) => !server.has(id)) };
				}
			}
			assert.equal(wrong, 0, `${wrong} of ${subscribed.length} ` +
			    `subscribers' lists differ from the server's, e.g. ` +
			    JSON.stringify(example));
			assert.ok(rss1 <= rss0 * 1.1, `RSS ${rss1} KiB at the end, ` +
			    `${rss0} KiB after the warm-up`);
		} finally {
			for (const m of members)
				m.terminate();
			if (probe)
				probe.terminate();
		}
	});
});
