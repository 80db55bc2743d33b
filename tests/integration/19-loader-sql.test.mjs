// 19-loader-sql: sql/ against a real PostgreSQL. schema.sql applied twice
// changes nothing; the migrations, applied in order, make the same schema;
// every report of sql/reports/ runs and gives, on a known data set, the
// figures worked out here from the same data by other means. Skipped,
// saying why, when PostgreSQL is not installed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import {
	SKIP, SQL_DIR, createDatabase, dropDatabases, psql,
} from './18-loader-lib.mjs';

after(() => {
	if (!SKIP)
		dropDatabases();
});

// What a database's schema is, from the catalogs: columns, constraints,
// indexes and the recorded migrations, as sorted text.
function schemaOf(db) {
	return {
		columns: psql(db, `SELECT table_name, column_name, data_type,
		    is_nullable, coalesce(column_default, '') FROM
		    information_schema.columns WHERE table_schema = 'public'
		    ORDER BY 1, 2`).map((r) => r.join(' ')),
		constraints: psql(db, `SELECT conrelid::regclass::text, conname,
		    pg_get_constraintdef(oid) FROM pg_constraint WHERE
		    connamespace = 'public'::regnamespace ORDER BY 1, 2`)
		    .map((r) => r.join(' ')),
		indexes: psql(db, `SELECT indexname, indexdef FROM pg_indexes
		    WHERE schemaname = 'public' ORDER BY 1`).map((r) => r.join(' ')),
		migrations: psql(db, `SELECT version, name FROM
		    sluice_schema_migrations ORDER BY 1`).map((r) => r.join(' ')),
	};
}

// --- the known data set

const DAY = 86400000;
// Today's UTC midnight, in ms; the data is on the three days before it
// (inside every report's default 30 days) and one far before (outside).
const today = Math.floor(Date.now() / DAY) * DAY;
const dayText = (ms) => new Date(ms).toISOString().slice(0, 10);

let seq = 0;
// One event: at is ms; lag (seconds) makes received_at later than the
// event's timestamp and gives it a client timestamp.
function ev(user, event, at, { data = {}, lag = null, ip = '192.0.2.1',
    ua = 'ua-1' } = {}) {
	const d = user && user.startsWith('u') ? { user_id: user, ...data } :
	    { ...data };
	return {
		app: 'shop', id: `e${++seq}`, channel: 'web', event,
		data: d, timestamp: at,
		received_at: at + (lag === null ? 0 : lag * 1000),
		client_timestamp: lag === null ? null : at,
		ip: user && user.startsWith('anon') ? `198.51.100.${user.slice(4)}` :
		    ip, ua,
	};
}

function dataSet() {
	const rows = [];
	const d1 = today - 3 * DAY;
	const d2 = today - 2 * DAY;
	const d3 = today - DAY;
	const h = 3600000;
	// The funnel: page_view, signup_started, signup_completed.
	rows.push(ev('u1', 'page_view', d1 + 9 * h, { data: { path: '/' } }),
	    ev('u1', 'signup_started', d1 + 10 * h),
	    ev('u1', 'signup_completed', d1 + 11 * h));
	rows.push(ev('u2', 'page_view', d1 + 9 * h, { data: { path: '/pricing' } }),
	    ev('u2', 'signup_started', d2 + 9 * h));
	rows.push(ev('u3', 'page_view', d2 + 9 * h, { data: { path: '/' } }));
	// Started before viewing: does not count as step 2.
	rows.push(ev('u4', 'signup_started', d1 + 8 * h),
	    ev('u4', 'page_view', d1 + 12 * h, { data: { url: '/docs' } }));
	// Completed without starting: step 1 only.
	rows.push(ev('u5', 'page_view', d2 + 1 * h, { data: { path: '/pricing' } }),
	    ev('u5', 'signup_completed', d2 + 2 * h));
	// Steps at the very same moment count.
	rows.push(ev('u7', 'page_view', d3 + 5 * h, { data: { path: '/' } }),
	    ev('u7', 'signup_started', d3 + 5 * h),
	    ev('u7', 'signup_completed', d3 + 5 * h));
	// Started only: not in the funnel.
	rows.push(ev('u6', 'signup_started', d3 + 6 * h));
	// Anonymous visitors (ip and user agent), one through the funnel.
	rows.push(ev('anon1', 'page_view', d3 + 7 * h, { data: { path: '/' } }),
	    ev('anon1', 'signup_started', d3 + 8 * h),
	    ev('anon1', 'signup_completed', d3 + 9 * h),
	    ev('anon2', 'page_view', d3 + 7 * h, { data: { path: '/pricing' },
	    ua: 'ua-2' }),
	    ev('anon2', 'page_view', d3 + 8 * h, { data: { path: '/pricing' },
	    ua: 'ua-2' }));
	// Page views of one more page, and events of other names.
	for (let i = 0; i < 4; i++)
		rows.push(ev('u8', 'page_view', d2 + (10 + i) * h,
		    { data: { path: '/blog' } }));
	rows.push(ev('u8', 'click', d2 + 15 * h), ev('u1', 'click', d2 + 15 * h),
	    ev('u9', 'click', d3 + 1 * h));
	// Lag: whole seconds, for events with a client timestamp.
	const lags = [[d1, [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]],
	    [d2, [2, 2, 4, 7, 7, 7, 30, 120, 600]], [d3, [1, 3]]];
	for (const [day, values] of lags)
		values.forEach((lag, i) => rows.push(ev('u10', 'lagged',
		    day + 20 * h + i * 1000, { lag })));
	// An event without user or ip: nobody.
	rows.push({ ...ev(null, 'page_view', d3 + 2 * h, { data: { path: '/' } }),
	    ip: null });
	// Far outside the window: counted by no report.
	rows.push(ev('u1', 'page_view', today - 40 * DAY, { data: { path: '/' },
	    lag: 7 }), ev('u20', 'signup_started', today - 40 * DAY));
	return rows;
}

// The rows as COPY text for the events table.
function copyText(rows) {
	const iso = (ms) => (ms === null ? '\\N' : new Date(ms).toISOString());
	return rows.map((r) => [r.app, r.id, r.channel, r.event,
	    JSON.stringify(r.data), iso(r.timestamp), iso(r.received_at),
	    iso(r.client_timestamp), r.ip ?? '\\N', r.ua ?? '\\N', 'http']
	    .join('\t')).join('\n') + '\n';
}

function load(db, rows) {
	psql(db, 'COPY events (app, id, channel, event, data, "timestamp", ' +
	    'received_at, client_timestamp, ip, user_agent, source) FROM ' +
	    `STDIN;\n${copyText(rows)}\\.\n`);
}

// --- the figures, worked out in JavaScript

const windowStart = today - 29 * DAY;
const windowEnd = today + DAY;
const inWindow = (ms) => ms >= windowStart && ms < windowEnd;

function who(r) {
	if (r.data.user_id !== undefined)
		return r.data.user_id;
	return r.ip === null ? null : `${r.ip} ${r.ua ?? ''}`;
}

function countBy(list, key) {
	const m = new Map();
	for (const x of list)
		m.set(key(x), (m.get(key(x)) || 0) + 1);
	return m;
}

function expectEventsPerDay(rows) {
	const m = countBy(rows.filter((r) => inWindow(r.timestamp)),
	    (r) => `${dayText(r.timestamp)}\t${r.event}`);
	return [...m].map(([k, n]) => [...k.split('\t'), String(n)])
	    .sort((a, b) => a[0].localeCompare(b[0]) || Number(b[2]) -
	    Number(a[2]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

function expectDau(rows) {
	const days = new Map();
	for (const r of rows.filter((x) => inWindow(x.timestamp))) {
		const d = dayText(r.timestamp);
		if (!days.has(d))
			days.set(d, { ids: new Set(), visitors: new Set() });
		if (r.data.user_id !== undefined)
			days.get(d).ids.add(r.data.user_id);
		else if (r.ip !== null)
			days.get(d).visitors.add(`${r.ip} ${r.ua ?? ''}`);
	}
	return [...days].sort().map(([d, s]) => [d,
	    String(s.ids.size + s.visitors.size), String(s.ids.size),
	    String(s.visitors.size)]);
}

function expectTopPages(rows) {
	const pages = new Map();
	for (const r of rows) {
		const page = r.data.path ?? r.data.url;
		if (r.event !== 'page_view' || !inWindow(r.timestamp) ||
		    page === undefined)
			continue;
		if (!pages.has(page))
			pages.set(page, { views: 0, users: new Set() });
		pages.get(page).views++;
		if (who(r) !== null)
			pages.get(page).users.add(who(r));
	}
	return [...pages].map(([p, s]) => [p, String(s.views),
	    String(s.users.size)]).sort((a, b) => Number(b[1]) - Number(a[1]) ||
	    (a[0] < b[0] ? -1 : 1)).slice(0, 20);
}

function expectFunnel(rows) {
	const steps = ['page_view', 'signup_started', 'signup_completed'];
	const byUser = new Map();
	for (const r of rows) {
		if (!steps.includes(r.event) || !inWindow(r.timestamp) ||
		    who(r) === null)
			continue;
		if (!byUser.has(who(r)))
			byUser.set(who(r), []);
		byUser.get(who(r)).push(r);
	}
	const counts = [0, 0, 0];
	for (const list of byUser.values()) {
		let since = -Infinity;
		for (let s = 0; s < 3; s++) {
			const times = list.filter((r) => r.event === steps[s] &&
			    r.timestamp >= since).map((r) => r.timestamp);
			if (times.length === 0)
				break;
			since = Math.min(...times);
			counts[s]++;
		}
	}
	const pct = (a, b) => (b === 0 ? '' : (Math.round(1000 * a / b) / 10)
	    .toFixed(1));
	return steps.map((name, s) => [String(s + 1), name, String(counts[s]),
	    pct(counts[s], counts[0]), s === 0 ? '' : pct(counts[s],
	    counts[s - 1])]);
}

// percentile_cont: interpolated between the two nearest values.
function percentile(sorted, p) {
	const pos = p * (sorted.length - 1);
	const lo = Math.floor(pos);
	const hi = Math.ceil(pos);
	return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function expectLag(rows) {
	const groups = new Map([['', []]]);
	for (const r of rows) {
		if (r.client_timestamp === null || !inWindow(r.received_at))
			continue;
		const lag = (r.received_at - r.timestamp) / 1000;
		const d = dayText(r.received_at);
		if (!groups.has(d))
			groups.set(d, []);
		groups.get(d).push(lag);
		groups.get('').push(lag);
	}
	const out = [];
	for (const [d, list] of [...groups].sort((a, b) => (a[0] === '' ? 1 :
	    b[0] === '' ? -1 : a[0].localeCompare(b[0])))) {
		list.sort((a, b) => a - b);
		out.push([d, String(list.length),
		    ...[0.5, 0.9, 0.99].map((p) => percentile(list, p).toFixed(3)),
		    Math.max(...list).toFixed(3)]);
	}
	return out;
}

describe('sql/', { skip: SKIP }, () => {
	it('schema.sql applied twice changes nothing', () => {
		const db = createDatabase('schema2');
		const once = schemaOf(db);
		psql(db, null, { file: path.join(SQL_DIR, 'schema.sql') });
		assert.deepEqual(schemaOf(db), once);
		assert.deepEqual(once.migrations, ['1 events']);
		// The columns the loader fills, typed.
		assert.ok(once.columns.includes('events data jsonb YES '));
		assert.ok(once.columns.includes('events ip inet YES '));
		assert.ok(once.columns.includes('events received_at timestamp ' +
		    'with time zone NO '));
		assert.ok(once.constraints.includes('events events_pkey PRIMARY ' +
		    'KEY (app, id)'));
	});

	it('the migrations, in order, make the schema of schema.sql', () => {
		const files = fs.readdirSync(path.join(SQL_DIR, 'migrations'))
		    .filter((f) => /^\d{4}_\w+\.sql$/.test(f)).sort();
		assert.ok(files.length > 0);
		const db = createDatabase('migrated', { schema: false });
		for (const f of files)
			psql(db, null, { file: path.join(SQL_DIR, 'migrations', f) });
		const migrated = schemaOf(db);
		// Twice, as an upgrade run by hand might be.
		for (const f of files)
			psql(db, null, { file: path.join(SQL_DIR, 'migrations', f) });
		assert.deepEqual(schemaOf(db), migrated);
		const fresh = createDatabase('fresh');
		assert.deepEqual(migrated, schemaOf(fresh));
		assert.equal(migrated.migrations.length, files.length);
	});

	describe('reports on a known data set', () => {
		const rows = dataSet();
		let db;
		const report = (name) => psql(db, null,
		    { file: path.join(SQL_DIR, 'reports', name) });

		it('every report file is one of those checked here', () => {
			assert.deepEqual(fs.readdirSync(path.join(SQL_DIR,
			    'reports')).sort(), ['daily_active_users.sql',
			    'events_per_day.sql', 'funnel.sql', 'ingestion_lag.sql',
			    'top_pages.sql']);
			for (const f of fs.readdirSync(path.join(SQL_DIR,
			    'reports'))) {
				const text = fs.readFileSync(path.join(SQL_DIR,
				    'reports', f), 'utf8');
				assert.match(text, /^-- \S.*: /, `${f} says what it ` +
				    'answers');
			}
			db = createDatabase('reports');
			load(db, rows);
		});

		it('events per day by name', () => {
			const got = report('events_per_day.sql');
			assert.deepEqual(got, expectEventsPerDay(rows));
			// A figure to read by eye: u3's, u5's and u8's four page
			// views two days ago.
			assert.ok(got.some((r) => r[0] === dayText(today - 2 * DAY) &&
			    r[1] === 'page_view' && r[2] === '6'));
		});

		it('daily active users', () => {
			const got = report('daily_active_users.sql');
			assert.deepEqual(got, expectDau(rows));
			assert.deepEqual(got.find((r) => r[0] === dayText(today -
			    DAY)), [dayText(today - DAY), '6', '4', '2']);
		});

		it('top pages', () => {
			const got = report('top_pages.sql');
			assert.deepEqual(got, expectTopPages(rows));
			// Five views of "/", by four users (one view has neither a
			// user id nor an ip).
			assert.deepEqual(got[0], ['/', '5', '4']);
		});

		it('a three-step funnel', () => {
			const got = report('funnel.sql');
			assert.deepEqual(got, expectFunnel(rows));
			assert.deepEqual(got.map((r) => r[2]), ['9', '4', '3']);
		});

		it('ingestion lag percentiles', () => {
			const got = report('ingestion_lag.sql');
			assert.deepEqual(got, expectLag(rows));
			assert.deepEqual(got[0], [dayText(today - 3 * DAY), '11',
			    '8.000', '55.000', '85.600', '89.000']);
		});
	});
});
