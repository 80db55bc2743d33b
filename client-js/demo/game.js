// game.js: Clash of Clicks, the demo game (index.html). Two teams race
// for clicks. Every click is an event tracked with sluice-js on the room's
// channel (a public game-* channel of the demo app); the scores are the
// clicks of everyone in the room, counted from what sluiced delivers live
// to this page's subscription of that channel. The player's id and team
// are kept in localStorage, so a reload keeps them (and the library keeps
// the clicks not yet acknowledged).
//
// window.clash holds the state, for the browser tests: the client, the
// player, the ids of the clicks tracked by this page load, the scores.

(function () {
	'use strict';

	const demo = window.SluiceDemo;
	const settings = demo.settings;
	const $ = (id) => document.getElementById(id);

	const sluice = demo.client();
	const player = demo.persistentId('clash:player');
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
		if (who)
			players[side].add(who);
		if (name !== 'click')
			return;
		score[side]++;
		arrivals.push(Date.now());
		recent.unshift({ team: side, who, at: envelope.received_at,
		    mine: who === player });
		recent.length = Math.min(recent.length, 6);
		dirty = true;
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
			item.textContent = `${time}  ${click.team} +1  ${click.mine ?
			    'you' : `player ${click.who || '?'}`}`;
			item.style.color = `var(--${click.team})`;
			list.appendChild(item);
		}
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
	}

	$('room').textContent = settings.room;
	$('player').textContent = player;
	$('to-dashboard').href = demo.linkTo('dashboard');
	demo.showState(sluice, $('state'));
	setTeam(team);
	sluice.page({ team }, { channel: settings.room }).catch(() => {});
	draw();
	setInterval(draw, 250);

	window.clash = { sluice, player, tracked, score,
	    get team() {
		    return team;
	    } };
})();
