// dashboard.js: the live dashboard (dashboard.html). It subscribes with
// sluice-js to the channels of the settings and shows every event sluiced
// delivers: a scrolling feed, events per second by event name on a canvas
// chart, totals; the gateway's own counts from its /metrics (accepted,
// queued for RabbitMQ, acknowledged by it); and this page's client: its
// connection, and the test events it tracks, queued and acknowledged.
//
// window.dashboard holds the state, for the browser tests.

(function () {
	'use strict';

	const D = window.SluiceDemo;
	const S = D.settings;
	const $ = (id) => document.getElementById(id);
	const FEED_ROWS = 200;
	const KEEP_IDS = 200000;

	const sluice = D.client();
	const chart = new window.SluiceChart.RateChart($('chart'));
	const totals = new Map();	// event name -> events received
	const seen = new Set();		// ids received (the last KEEP_IDS)
	const seenOrder = [];
	const pending = [];		// received, not yet in the feed
	let received = 0;
	let dups = 0;
	let metrics = null;		// the last /metrics read, or null
	let lastError = '';

	function firstSight(id) {
		if (seen.has(id))
			return false;
		seen.add(id);
		seenOrder.push(id);
		if (seenOrder.length > KEEP_IDS)
			seen.delete(seenOrder.shift());
		return true;
	}

	function onEvent(channel, env, name) {
		if (!firstSight(env.id)) {
			dups++;
			return;
		}
		received++;
		totals.set(name, (totals.get(name) || 0) + 1);
		chart.add(name, Date.now());
		pending.push({ channel, env, name });
		if (pending.length > FEED_ROWS)
			pending.splice(0, pending.length - FEED_ROWS);
	}

	for (const ch of S.channels)
		sluice.subscribe(ch, (env, name) => onEvent(ch, env, name));
	sluice.on('error', (e) => {
		lastError = e.channel ? `${e.channel}: ${e.message}` : e.message;
	});

	function cell(tr, text, cls) {
		const td = document.createElement('td');
		td.textContent = text;
		if (cls)
			td.className = cls;
		tr.appendChild(td);
	}

	// Moves what arrived since the last call to the top of the feed.
	function drawFeed() {
		if (!pending.length)
			return;
		const body = $('feed');
		const frag = document.createDocumentFragment();
		for (let i = pending.length - 1; i >= 0; i--) {
			const { channel, env, name } = pending[i];
			const tr = document.createElement('tr');
			tr.dataset.id = env.id;
			tr.dataset.event = name;
			cell(tr, String(env.received_at || '').slice(11, 23));
			cell(tr, channel);
			cell(tr, name, 'ev');
			cell(tr, env.source || '');
			cell(tr, String(env.id).slice(-12));
			let data = '';
			try {
				data = JSON.stringify(env.data);
			} catch {
				// not JSON after all
			}
			cell(tr, (data || '').slice(0, 160));
			const c = chart.colors.get(name);
			if (c)
				tr.children[2].style.color = c;
			frag.appendChild(tr);
		}
		pending.length = 0;
		body.insertBefore(frag, body.firstChild);
		while (body.rows.length > FEED_ROWS)
			body.deleteRow(-1);
	}

	function drawLegend(series) {
		const el = $('legend');
		el.textContent = '';
		for (const s of series) {
			const item = document.createElement('span');
			const sw = document.createElement('span');
			const b = document.createElement('b');
			sw.className = 'sw';
			sw.style.background = s.color;
			b.textContent = `${s.now}/s`;
			item.appendChild(sw);
			item.appendChild(document.createTextNode(`${s.name} `));
			item.appendChild(b);
			const total = totals.get(s.name);
			if (total !== undefined) {
				item.appendChild(document.createTextNode(
				    ` · ${D.n(total)}`));
			}
			el.appendChild(item);
		}
	}

	// Parses Prometheus text: name (labels included) -> number.
	function parseMetrics(text) {
		const m = new Map();
		for (const line of text.split('\n')) {
			if (!line || line[0] === '#')
				continue;
			const sp = line.lastIndexOf(' ');
			m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
		}
		return m;
	}

	function sumOf(m, prefix) {
		let n = 0;
		for (const [k, v] of m) {
			if (k.startsWith(prefix))
				n += v;
		}
		return n;
	}

	async function pollMetrics() {
		try {
			const r = await fetch(`${S.httpUrl}/metrics`,
			    { cache: 'no-store' });
			if (!r.ok)
				throw new Error(`HTTP ${r.status}`);
			const m = parseMetrics(await r.text());
			metrics = {
				accepted: m.get('sluice_events_accepted_total'),
				rejected: sumOf(m, 'sluice_events_rejected_total{'),
				waiting: m.get('sluice_journal_unconfirmed_records'),
				confirmed: m.get(
				    'sluice_amqp_confirms_total{outcome="ack"}'),
				connections: m.get('sluice_ws_connections'),
				amqp: m.get('sluice_amqp_connected') === 1 ?
				    (m.get('sluice_amqp_blocked') ? 'blocked' :
				    'connected') : 'not connected',
				journalBytes: m.get('sluice_journal_bytes'),
			};
		} catch {
			metrics = null;
		}
	}

	function show(id, v) {
		$(id).textContent = v === undefined || v === null ? '–' :
		    typeof v === 'number' ? D.n(v) : v;
	}

	function draw() {
		const now = Date.now();
		drawFeed();
		drawLegend(chart.draw(now));
		show('t-received', received);
		show('t-rate', chart.lastSecond(now));
		show('t-dups', dups);
		const m = metrics || {};
		show('t-accepted', m.accepted);
		show('t-waiting', m.waiting);
		show('t-confirmed', m.confirmed);
		show('t-rejected', m.rejected);
		show('t-conns', m.connections);
		show('c-amqp', m.amqp);
		show('c-journal', m.journalBytes === undefined ? undefined :
		    `${(m.journalBytes / 1048576).toFixed(1)} MB`);
		show('c-state', sluice.state);
		show('c-queued', sluice.queued);
		show('c-acked', sluice.acked);
		show('c-dropped', sluice.dropped);
		$('feed-note').textContent = lastError ? `· ${lastError}` :
		    `· newest first, the last ${FEED_ROWS} shown`;
	}

	let testRun = 0;
	function sendTest(n) {
		const run = ++testRun;
		for (let i = 0; i < n; i++)
			sluice.track('dashboard_test', { run, i }).catch(() => {});
		draw();
	}

	$('channels').textContent = S.channels.join(', ');
	$('c-ws').textContent = S.wsUrl;
	$('c-key').textContent = S.key;
	$('to-game').href = D.linkTo('./');
	$('send-100').addEventListener('click', () => sendTest(100));
	$('send-1000').addEventListener('click', () => sendTest(1000));
	D.showState(sluice, $('state'));
	pollMetrics().then(draw);
	setInterval(pollMetrics, 1000);
	setInterval(draw, 500);
	draw();

	window.dashboard = {
		sluice,
		totals,
		has: (id) => seen.has(id),
		get received() {
			return received;
		},
		get dups() {
			return dups;
		},
		get metrics() {
			return metrics;
		},
	};
})();
