// common.js: what the demo pages share: their settings, read from the
// query string, the visitor (an id, a name and a colour, kept in
// localStorage), the authorizer of presence channels and a few helpers for
// the page. Loaded after sluice.min.js (window.Sluice); defines
// window.SluiceDemo.
//
// Query arguments (all optional):
//   key       the app key (default demo-key-0001, the demo app of
//             conf/sluiced.conf)
//   ws        the WebSocket URL of sluiced (default ws://PAGE-HOST:8081)
//   http      the HTTP URL of sluiced (default: the page's own origin,
//             which serves these pages)
//   room      the game's channel (default game-1); its players are on
//             presence-ROOM
//   arena     the Pointer Arena's presence channel (default
//             presence-arena)
//   channels  the dashboard's channels, comma separated (default
//             events,game-1)
//   flush     ms a partial batch waits before it is sent (default 200)
//   name      the visitor's name (default: one made up, and kept)
//
// Presence channels need an auth signed with the app's secret, which a
// page must never hold: the authorizer asks sluiced's GET /v1/auth, which
// signs the presence channels the app opened to anyone (public_channels
// presence-game-* presence-arena*), with the visitor as the member.

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
		arena: query.get('arena') || 'presence-arena',
		channels: (query.get('channels') || 'events,game-1').split(',')
		    .map((channel) => channel.trim()).filter(Boolean),
		flushInterval: number('flush', 200),
	};

	// The value kept in localStorage under name, or a new one made by
	// make() (and kept, when storage works).
	function kept(name, make) {
		let value = null;
		try {
			value = localStorage.getItem(name);
		} catch {
			// no storage: a new one each time
		}
		if (!value) {
			value = make();
			try {
				localStorage.setItem(name, value);
			} catch {
				// as above
			}
		}
		return value;
	}

	const ADJECTIVES = ['Swift', 'Brave', 'Quiet', 'Lucky', 'Clever',
	    'Sunny', 'Bold', 'Calm', 'Witty', 'Eager', 'Merry', 'Nimble'];
	const ANIMALS = ['Otter', 'Falcon', 'Lynx', 'Panda', 'Heron', 'Fox',
	    'Badger', 'Koala', 'Marten', 'Puffin', 'Gecko', 'Yak'];
	const COLORS = ['#ef4f5f', '#3f8cff', '#38c98a', '#f2b33d', '#b574f5',
	    '#2fc6d8', '#ff8a3d', '#e462b6', '#9bd13b', '#7f8cff'];
	const pick = (list) => list[Math.floor(Math.random() * list.length)];

	// This browser's visitor: the id is a game's player id and a presence
	// channel's user_id (its tabs are one member); name and colour are its
	// user_info.
	const visitor = {
		id: kept('clash:player', () => Math.random().toString(36)
		    .slice(2, 8)),
		name: (query.get('name') || kept('demo:name', () =>
		    `${pick(ADJECTIVES)} ${pick(ANIMALS)}`)).slice(0, 40),
		color: kept('demo:color', () => pick(COLORS)),
	};

	/*
	 * The authorizer of the pages' clients: the auth of a private- or
	 * presence- channel for socketId from sluiced's GET /v1/auth (the
	 * visitor as the member of a presence channel). Rejects with the
	 * server's message when it refuses.
	 */
	async function authorizer(socketId, channel) {
		const query = new URLSearchParams({ key: settings.key,
		    socket_id: socketId, channel_name: channel });
		if (channel.startsWith('presence-')) {
			query.set('channel_data', JSON.stringify({ user_id: visitor.id,
			    user_info: { name: visitor.name, color: visitor.color } }));
		}
		const response = await fetch(`${settings.httpUrl}/v1/auth?${query}`,
		    { cache: 'no-store' });
		const answer = await response.json().catch(() => ({}));
		if (!response.ok)
			throw new Error(answer.message || `HTTP ${response.status}`);
		return answer;
	}

	// A client of the settings' app, with extra options.
	function client(options) {
		return new window.Sluice({
			key: settings.key,
			wsUrl: settings.wsUrl,
			httpUrl: settings.httpUrl,
			flushInterval: settings.flushInterval,
			authorizer,
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
		visitor,
		// A list item for member ({id, info}): a dot of its colour (or
		// color) and its name, "(you)" for the visitor.
		memberItem(member, color) {
			const info = member.info || {};
			const item = document.createElement('li');
			const dot = document.createElement('span');
			dot.className = 'dot';
			dot.style.background = color || info.color || 'var(--dim)';
			item.dataset.id = member.id;
			item.append(dot, `${info.name || member.id}${member.id ===
			    visitor.id ? ' (you)' : ''}`);
			return item;
		},
	};
})();
