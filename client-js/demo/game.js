// game.js: Clash of Clicks, the demo game (index.html). Two teams race
// for clicks. Every click is an event tracked with sluice-js on the room's
// channel (a public game-* channel of the demo app); the scores are the
// clicks of everyone in the room, counted from what sluiced delivers live
// to this page's subscription of that channel. Who is playing now comes
// from the room's presence channel (presence-ROOM): its members, each a
// player (with every tab of the player one member), in the colour of the
// team its last click was for. The player's id and team are kept in
// localStorage, so a reload keeps them (and the library keeps the clicks
// not yet acknowledged).
//
// window.clash holds the state, for the browser tests: the client, the
// player, the ids of the clicks tracked by this page load, the scores, the
// presence channel.

(function () {
	'use strict';

	const demo = window.SluiceDemo;
	const settings = demo.settings;
	const $ = (id) => document.getElementById(id);

	const sluice = demo.client();
	const player = demo.visitor.id;
	let team = null;
	try {
		team = localStorage.getItem('clash:team');
	} catch {
		// no storage
	}
	if (team !== 'red' && team !== 'blue')
		team = Math.random() < 0.5 ? 'red' : 'blue';

	const score = { red: 0, blue: 0 };
	const players = { red: new Set(), blue: new Set() };
	const teamOf = new Map();	// player id -> the team of its last event
	const tracked = [];		// ids of this page load's clicks
	const arrivals = [];		// ms of the room's clicks, last 5 s
	const recent = [];		// the last clicks in the room
	const seen = new Set();		// event ids counted (delivery is at
	const seenOrder = [];		// least once: count each id once)
	let dirty = true;

	sluice.identify(player);

	function setTeam(chosen) {
		team = chosen;
		try {
			localStorage.setItem('clash:team', chosen);
		} catch {
			// no storage
		}
		sluice.track('join', { team }, { channel: settings.room })
		    .catch(() => {});
		dirty = true;
	}

	// True the first time id is seen (remembers the last 50,000).
	function firstSight(id) {
		if (seen.has(id))
			return false;
		seen.add(id);
		seenOrder.push(id);
		if (seenOrder.length > 50000)
			seen.delete(seenOrder.shift());
		return true;
	}

	sluice.subscribe(settings.room, (envelope, name) => {
		const data = envelope.data || {};
		const who = data.user && data.user.id;
		const side = data.team;

		if ((side !== 'red' && side !== 'blue') ||
		    !firstSight(envelope.id))
			return;
		if (who) {
			players[side].add(who);
			if (teamOf.get(who) !== side)
				dirty = true;
			teamOf.set(who, side);
		}
		if (name !== 'click')
			return;
		score[side]++;
		arrivals.push(Date.now());
		recent.unshift({ team: side, who, at: envelope.received_at,
		    mine: who === player });
		recent.length = Math.min(recent.length, 6);
		dirty = true;
	});

	// The players here now: members of the room's presence channel.
	const lobby = sluice.join(`presence-${settings.room}`, {
		subscribed: () => {
			dirty = true;
		},
		member_added: () => {
			dirty = true;
		},
		member_removed: () => {
			dirty = true;
		},
	});

	$('click').addEventListener('click', () => {
		const id = window.Sluice.uuid7();

		tracked.push(id);
		sluice.track('click', { team }, { channel: settings.room, id })
		    .catch(() => {});
		dirty = true;
		draw();
	});
	$('switch').addEventListener('click', () => {
		setTeam(team === 'red' ? 'blue' : 'red');
		draw();
	});

	function drawRecent() {
		const list = $('recent');
		list.textContent = '';
		for (const click of recent) {
			const item = document.createElement('li');
			const time = String(click.at || '').slice(11, 19);
			const member = lobby.members.get(click.who);
			const name = member && member.info && member.info.name;
			item.textContent = `${time}  ${click.team} +1  ${click.mine ?
			    'you' : name || `player ${click.who || '?'}`}`;
			item.style.color = `var(--${click.team})`;
			list.appendChild(item);
		}
	}

	function drawPlayers() {
		const list = $('here');
		const members = [...lobby.members.values()].sort((a, b) =>
		    a.id === player ? -1 : b.id === player ? 1 :
		    String(a.info && a.info.name).localeCompare(String(b.info &&
		    b.info.name)));
		list.textContent = '';
		for (const member of members) {
			const side = member.id === player ? team : teamOf.get(member.id);
			list.appendChild(demo.memberItem(member, side &&
			    `var(--${side})`));
		}
		$('here-count').textContent = lobby.subscribed ?
		    `${members.length} playing now` : 'not connected';
	}

	function draw() {
		const now = Date.now();
		while (arrivals.length && arrivals[0] < now - 5000)
			arrivals.shift();
		$('rate').textContent = (arrivals.length / 5).toFixed(1);
		$('mine').textContent = demo.format(tracked.length);
		$('acked').textContent = demo.format(sluice.acked);
		$('queued').textContent = demo.format(sluice.queued);
		$('dropped').textContent = demo.format(sluice.dropped);
		if (!dirty)
			return;
		dirty = false;
		$('score-red').textContent = demo.format(score.red);
		$('score-blue').textContent = demo.format(score.blue);
		for (const side of ['red', 'blue']) {
			const count = players[side].size;
			$(`players-${side}`).textContent = count === 1 ? '1 player' :
			    `${count || 'no'} players${count ? '' : ' yet'}`;
		}
		const all = score.red + score.blue;
		$('tug').style.width = `${all ? 100 * score.red / all : 50}%`;
		$('team').textContent = team;
		$('team').style.color = `var(--${team})`;
		$('click').className = team;
		drawRecent();
		drawPlayers();
	}

	$('room').textContent = settings.room;
	$('player').textContent = demo.visitor.name;
	$('to-dashboard').href = demo.linkTo('dashboard');
	$('to-arena').href = demo.linkTo('arena');
	demo.showState(sluice, $('state'));
	setTeam(team);
	sluice.page({ team }, { channel: settings.room }).catch(() => {});
	draw();
	setInterval(draw, 250);

	window.clash = { sluice, player, tracked, score, lobby,
	    get team() {
		    return team;
	    } };
})();
