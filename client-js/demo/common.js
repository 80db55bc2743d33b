// common.js: what the two demo pages share: their settings, read from the
// query string, and a few helpers for the page. Loaded after sluice.min.js
// (window.Sluice); defines window.SluiceDemo.
//
// Query arguments (all optional):
//   key       the app key (default demo-key-0001, the demo app of
//             conf/sluiced.conf)
//   ws        the WebSocket URL of sluiced (default ws://PAGE-HOST:8081)
//   http      the HTTP URL of sluiced (default: the page's own origin,
//             which serves these pages)
//   room      the game's channel (default game-1)
//   channels  the dashboard's channels, comma separated (default
//             events,game-1)
//   flush     ms a partial batch waits before it is sent (default 200)

(function () {
	'use strict';

	const query = new URLSearchParams(location.search);
	const host = location.hostname || '127.0.0.1';

	// The query's argument name as a number >= 0, else fallback.
	function number(name, fallback) {
		const value = Number(query.get(name));
		return query.has(name) && Number.isFinite(value) && value >= 0 ?
		    value : fallback;
	}

	const settings = {
		key: query.get('key') || 'demo-key-0001',
		wsUrl: query.get('ws') || `ws://${host.includes(':') ?
		    `[${host}]` : host}:8081`,
		httpUrl: query.has('http') ?
		    query.get('http').replace(/\/+$/, '') : '',
		room: query.get('room') || 'game-1',
		channels: (query.get('channels') || 'events,game-1').split(',')
		    .map((channel) => channel.trim()).filter(Boolean),
		flushInterval: number('flush', 200),
	};

	// A client of the settings' app, with extra options.
	function client(options) {
		return new window.Sluice({
			key: settings.key,
			wsUrl: settings.wsUrl,
			httpUrl: settings.httpUrl,
			flushInterval: settings.flushInterval,
			...options,
		});
	}

	// Shows the connection state of sluice in element (a .pill).
	function showState(sluice, element) {
		const draw = () => {
			element.textContent = sluice.state;
			element.className = `pill state-${sluice.state}`;
		};
		sluice.on('state', draw);
		draw();
	}

	// The link to the other page, keeping the query string.
	function linkTo(path) {
		return path + location.search;
	}

	const numberFormat = new Intl.NumberFormat('en-US');

	window.SluiceDemo = {
		settings,
		client,
		showState,
		linkTo,
		// A number with thousands separators.
		format: (value) => numberFormat.format(value),
		// A short random id (a player's), persisted under name.
		persistentId(name) {
			let id = null;
			try {
				id = localStorage.getItem(name);
			} catch {
				// no storage: a new one each time
			}
			if (!id) {
				id = Math.random().toString(36).slice(2, 8);
				try {
					localStorage.setItem(name, id);
				} catch {
					// as above
				}
			}
			return id;
		},
	};
})();
