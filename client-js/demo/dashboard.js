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

	const demo = window.SluiceDemo;
	const settings = demo.settings;
	const $ = (id) => document.getElementById(id);
	const FEED_ROWS = 200;
	const KEEP_IDS = 200000;

	const sluice = demo.client();
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

	function onEvent(channel, envelope, name) {
		if (!firstSight(envelope.id)) {
			dups++;
			return;
		}
		received++;
		totals.set(name, (totals.get(name) || 0) + 1);
		chart.add(name, Date.now());
		pending.push({ channel, envelope, name });
		if (pending.length > FEED_ROWS)
			pending.splice(0, pending.length - FEED_ROWS);
	}

	for (const channel of settings.channels) {
		sluice.subscribe(channel, (envelope, name) => onEvent(channel,
		    envelope, name));
	}
	sluice.on('error', (err) => {
		lastError = err.channel ? `${err.channel}: ${err.message}` :
		    err.message;
	});

	// Appends a cell of text (of class className, if given) to row.
	function cell(row, text, className) {
		const td = document.createElement('td');
		td.textContent = text;
		if (className)
			td.className = className;
		row.appendChild(td);
	}

	// Moves what arrived since the last call to the top of the feed.
	function drawFeed() {
		if (!pending.length)
			return;
		const body = $('feed');
		const rows = document.createDocumentFragment();
		for (let i = pending.length - 1; i >= 0; i--) {
			const { channel, envelope, name } = pending[i];
			const row = document.createElement('tr');
			row.dataset.id = envelope.id;
			row.dataset.event = name;
			cell(row, String(envelope.received_at || '').slice(11, 23));
			cell(row, channel);
			cell(row, name, 'ev');
			cell(row, envelope.source || '');
			cell(row, String(envelope.id).slice(-12));
			let data = '';
			try {
				data = JSON.stringify(envelope.data);
			} catch {
				// not JSON after all
			}
			cell(row, (data || '').slice(0, 160));
			const color = chart.colors.get(name);
			if (color)
				row.children[2].style.color = color;
			rows.appendChild(row);
		}
		pending.length = 0;
		body.insertBefore(rows, body.firstChild);
		while (body.rows.length > FEED_ROWS)
			body.deleteRow(-1);
	}

	function drawLegend(series) {
		const legend = $('legend');
		legend.textContent = '';
		for (const line of series) {
			const item = document.createElement('span');
			const swatch = document.createElement('span');
			const rate = document.createElement('b');
			swatch.className = 'sw';
			swatch.style.background = line.color;
			rate.textContent = `${line.now}/s`;
			item.appendChild(swatch);
			item.appendChild(document.createTextNode(`${line.name} `));
			item.appendChild(rate);
			const total = totals.get(line.name);
			if (total !== undefined) {
				item.appendChild(document.createTextNode(
				    ` · ${demo.format(total)}`));
			}
			legend.appendChild(item);
		}
	}

	// Parses Prometheus text: name (labels included) -> number.
	function parseMetrics(text) {
		const values = new Map();
		for (const line of text.split('\n')) {
			if (!line || line[0] === '#')
				continue;
			const space = line.lastIndexOf(' ');
			values.set(line.slice(0, space), Number(line.slice(space + 1)));
		}
		return values;
	}

	// The sum of the values whose names start with prefix.
	function sumOf(values, prefix) {
		let sum = 0;
		for (const [name, value] of values) {
			if (name.startsWith(prefix))
				sum += value;
		}
		return sum;
	}

	async function pollMetrics() {
		try {
			const response = await fetch(`${settings.httpUrl}/metrics`,
			    { cache: 'no-store' });
			if (!response.ok)
				throw new Error(`HTTP ${response.status}`);
			const values = parseMetrics(await response.text());
			metrics = {
				accepted: values.get('sluice_events_accepted_total'),
				rejected: sumOf(values, 'sluice_events_rejected_total{'),
				waiting: values.get('sluice_journal_unconfirmed_records'),
				confirmed: values.get(
				    'sluice_amqp_confirms_total{outcome="ack"}'),
				connections: values.get('sluice_ws_connections'),
				amqp: values.get('sluice_amqp_connected') === 1 ?
				    (values.get('sluice_amqp_blocked') ? 'blocked' :
				    'connected') : 'not connected',
				journalBytes: values.get('sluice_journal_bytes'),
			};
		} catch {
			metrics = null;
		}
	}

	// Shows value in the element of id ('–' for none).
	function show(id, value) {
		$(id).textContent = value === undefined || value === null ? '–' :
		    typeof value === 'number' ? demo.format(value) : value;
	}

	function draw() {
		const now = Date.now();
		drawFeed();
		drawLegend(chart.draw(now));
		show('t-received', received);
		show('t-rate', chart.lastSecond(now));
		show('t-dups', dups);
		const gateway = metrics || {};
		show('t-accepted', gateway.accepted);
		show('t-waiting', gateway.waiting);
		show('t-confirmed', gateway.confirmed);
		show('t-rejected', gateway.rejected);
		show('t-conns', gateway.connections);
		show('c-amqp', gateway.amqp);
		show('c-journal', gateway.journalBytes === undefined ? undefined :
		    `${(gateway.journalBytes / 1048576).toFixed(1)} MB`);
		show('c-state', sluice.state);
		show('c-queued', sluice.queued);
		show('c-acked', sluice.acked);
		show('c-dropped', sluice.dropped);
		$('feed-note').textContent = lastError ? `· ${lastError}` :
		    `· newest first, the last ${FEED_ROWS} shown`;
	}

	let testRun = 0;
	function sendTest(count) {
		const run = ++testRun;
		for (let i = 0; i < count; i++)
			sluice.track('dashboard_test', { run, i }).catch(() => {});
		draw();
	}

	$('channels').textContent = settings.channels.join(', ');
	$('c-ws').textContent = settings.wsUrl;
	$('c-key').textContent = settings.key;
	$('to-game').href = demo.linkTo('./');
	$('to-arena').href = demo.linkTo('arena');
	$('send-100').addEventListener('click', () => sendTest(100));
	$('send-1000').addEventListener('click', () => sendTest(1000));
	demo.showState(sluice, $('state'));
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
