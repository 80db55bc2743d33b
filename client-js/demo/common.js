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

	const q = new URLSearchParams(location.search);
	const host = location.hostname || '127.0.0.1';

	function num(name, dflt) {
		const v = Number(q.get(name));
		return q.has(name) && Number.isFinite(v) && v >= 0 ? v : dflt;
	}

	const settings = {
		key: q.get('key') || 'demo-key-0001',
		wsUrl: q.get('ws') || `ws://${host.includes(':') ? `[${host}]` :
		    host}:8081`,
		httpUrl: q.has('http') ? q.get('http').replace(/\/+$/, '') : '',
		room: q.get('room') || 'game-1',
		channels: (q.get('channels') || 'events,game-1').split(',')
		    .map((c) => c.trim()).filter(Boolean),
		flushInterval: num('flush', 200),
	};

	// A client of the settings' app, with extra options.
	function client(opts) {
		return new window.Sluice({
			key: settings.key,
			wsUrl: settings.wsUrl,
			httpUrl: settings.httpUrl,
			flushInterval: settings.flushInterval,
			...opts,
		});
	}

	// Shows the client's connection state in element el (a .pill).
	function showState(c, el) {
		const draw = () => {
			el.textContent = c.state;
			el.className = `pill state-${c.state}`;
		};
		c.on('state', draw);
		draw();
	}

	// The link to the other page, keeping the query string.
	function linkTo(path) {
		return path + location.search;
	}

	const fmt = new Intl.NumberFormat('en-US');

	window.SluiceDemo = {
		settings,
		client,
		showState,
		linkTo,
		// A number with thousands separators.
		n: (x) => fmt.format(x),
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
