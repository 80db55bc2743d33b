// 05-metrics: /healthz, /readyz with and without the broker and with a
// journal directory that takes no files, and /metrics moving as events are
// accepted, rejected and confirmed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	closedPortUrl, get, metrics, post, request, startSluiced, uniqueNames,
	waitFor,
} from '../lib/sluiced.mjs';

const { s, broker } = useSluiced({ name: 'metrics', waitReady: true });

// The change of each series from a to b (missing counts as 0).
function delta(a, b, key) {
	return (b.get(key) ?? 0) - (a.get(key) ?? 0);
}

describe('health', () => {
	it('/healthz answers 200', async () => {
		const r = await get(`${s.baseUrl}/healthz`);
		assert.equal(r.status, 200);
		assert.deepEqual(r.json, { alive: true });
		const h = await request('HEAD', `${s.baseUrl}/healthz`);
		assert.equal(h.status, 200);
		assert.equal(h.text, '');
	});

	it('/readyz answers 200 with the broker connected', async () => {
		const r = await get(`${s.baseUrl}/readyz`);
		assert.equal(r.status, 200);
		assert.equal(r.json.ready, true);
	});

	it('/readyz answers 503 with a reason without a broker', async () => {
		const d = await startSluiced({ name: 'nobroker', names: s.names,
		    amqpUrl: await closedPortUrl(),
		    server: { shutdown_timeout: 1 } });
		try {
			const h = await get(`${d.baseUrl}/healthz`);
			assert.equal(h.status, 200);
			const r = await get(`${d.baseUrl}/readyz`);
			assert.equal(r.status, 503);
			assert.match(r.headers['content-type'], /^application\/json/);
			assert.equal(r.json.ready, false);
			assert.match(r.json.reason, /broker/);
			const m = await metrics(d);
			assert.equal(m.get('sluice_amqp_connected'), 0);
		} finally {
			await d.stop();
		}
	});
});

// chattr +i or -i on dir; false when the file system or the user cannot.
function chattr(flag, dir) {
	const r = spawnSync('chattr', [flag, dir], { encoding: 'utf8' });
	return r.status === 0;
}

describe('a journal directory that takes no files', () => {
	it('at start: sluiced exits, naming the directory', async () => {
		// Even root cannot create a file in a process's /proc directory.
		await assert.rejects(startSluiced({ name: 'rojournal',
		    names: s.names, journalDir: '/proc/self' }),
		    /exited \(1\)[\s\S]*\/proc\/self: cannot create a file/);
	});

	it('later: /readyz answers 503 until it takes files again',
	    async (t) => {
		const d = await startSluiced({ name: 'rojournal2',
		    names: s.names, waitReady: true });
		try {
			// Root writes through chmod; an immutable directory
			// stops it (ext4, xfs, btrfs; not tmpfs or overlayfs).
			if (!chattr('+i', d.journalDir)) {
				t.skip('chattr +i is not supported here');
				return;
			}
			try {
				const r = await get(`${d.baseUrl}/readyz`);
				assert.equal(r.status, 503, r.text);
				assert.equal(r.json.ready, false);
				assert.match(r.json.reason, /journal directory cannot be/);
				assert.match(d.log(), /\/readyz: .*cannot create a file/);
			} finally {
				assert.ok(chattr('-i', d.journalDir));
			}
			const r = await get(`${d.baseUrl}/readyz`);
			assert.equal(r.status, 200, r.text);
		} finally {
			await d.stop();
		}
	});
});

describe('/metrics', () => {
	it('is Prometheus text with every family', async () => {
		const r = await get(`${s.baseUrl}/metrics`);
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'],
		    /^text\/plain; version=0\.0\.4/);
		for (const family of [
			'sluice_events_accepted_total',
			'sluice_events_rejected_total',
			'sluice_http_requests_total',
			'sluice_journal_bytes',
			'sluice_journal_unconfirmed_records',
			'sluice_amqp_connected',
			'sluice_amqp_publishes_total',
			'sluice_amqp_confirms_total',
			'sluice_amqp_returned_total',
			'sluice_amqp_confirm_latency_seconds',
		]) {
			assert.match(r.text, new RegExp(`^# TYPE ${family} `, 'm'),
			    `no ${family}`);
		}
		// Every sample line is "name{labels} number".
		for (const line of r.text.split('\n')) {
			if (line === '' || line.startsWith('#'))
				continue;
			assert.match(line, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$/,
			    `bad line: ${line}`);
		}
	});

	it('moves as events are accepted, rejected and confirmed', async () => {
		const before = await metrics(s);
		assert.equal(before.get('sluice_amqp_connected'), 1);

		let r = await post(s.url, [{ event: 'm1' }, { event: 'm2' },
		    { nope: 1 }], { key: s.key });
		assert.equal(r.status, 207);
		r = await post(s.url, { event: 'm3' }, { key: s.key });
		assert.equal(r.status, 202);
		r = await post(s.url, '{"event"', { key: s.key });
		assert.equal(r.status, 400);
		r = await post(s.url, [{ data: 1 }], { key: s.key });
		assert.equal(r.status, 400);
		r = await post(s.url, { event: 'm' }, { key: 'wrong-key-01' });
		assert.equal(r.status, 401);
		r = await get(`${s.baseUrl}/nowhere`);
		assert.equal(r.status, 404);
		await broker.collect(s.names.queue, 3);

		const now = await waitFor(async () => {
			const m = await metrics(s);
			return delta(before, m,
			    'sluice_amqp_confirms_total{outcome="ack"}') >= 3 &&
			    m.get('sluice_journal_unconfirmed_records') === 0 && m;
		}, { what: 'three confirms' });

		assert.equal(delta(before, now, 'sluice_events_accepted_total'), 3);
		assert.equal(delta(before, now,
		    'sluice_events_rejected_total{reason="unknown_field"}'), 1);
		assert.equal(delta(before, now,
		    'sluice_events_rejected_total{reason="missing_event"}'), 1);
		assert.equal(delta(before, now,
		    'sluice_events_rejected_total{reason="invalid_json"}'), 1);
		assert.equal(delta(before, now,
		    'sluice_http_requests_total{code="202"}'), 1);
		assert.equal(delta(before, now,
		    'sluice_http_requests_total{code="207"}'), 1);
		assert.equal(delta(before, now,
		    'sluice_http_requests_total{code="400"}'), 2);
		assert.equal(delta(before, now,
		    'sluice_http_requests_total{code="401"}'), 1);
		assert.equal(delta(before, now,
		    'sluice_http_requests_total{code="404"}'), 1);
		assert.equal(delta(before, now, 'sluice_amqp_publishes_total'), 3);
		assert.equal(delta(before, now,
		    'sluice_amqp_confirms_total{outcome="ack"}'), 3);
		assert.equal(delta(before, now,
		    'sluice_amqp_confirms_total{outcome="nack"}'), 0);
		assert.equal(delta(before, now,
		    'sluice_amqp_confirm_latency_seconds_count'), 3);
		assert.ok(delta(before, now,
		    'sluice_amqp_confirm_latency_seconds_sum') > 0);
		assert.equal(delta(before, now,
		    'sluice_amqp_confirm_latency_seconds_bucket{le="+Inf"}'), 3);
		assert.ok(delta(before, now, 'sluice_journal_fsyncs_total') >= 1);
		assert.ok(now.get('sluice_journal_bytes') > 0);
		assert.ok(now.get('sluice_journal_max_bytes') > 0);
	});

	it('an unroutable event is confirmed, not returned', async () => {
		// The alternate exchange takes what no binding matches, so the
		// broker never returns a mandatory message.
		const names = uniqueNames('unrouted');
		const d = await startSluiced({ name: 'unrouted', names,
		    queues: { [names.queue]: 'events.#' }, waitReady: true });
		try {
			const before = await metrics(d);
			const r = await post(d.url, { event: 'lost', channel: 'chat.x' },
			    { key: d.key });
			assert.equal(r.status, 202);
			const [m] = await broker.collect(names.unrouted, 1);
			assert.equal(m.body.id, r.json.ids[0]);
			const now = await waitFor(async () => {
				const x = await metrics(d);
				return delta(before, x,
				    'sluice_amqp_confirms_total{outcome="ack"}') === 1 &&
				    x;
			}, { what: 'one confirm' });
			assert.equal(delta(before, now, 'sluice_amqp_returned_total'),
			    0);
		} finally {
			await d.stop();
			await broker.deleteTopology(names);
		}
	});
});
