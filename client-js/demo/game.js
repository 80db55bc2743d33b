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

	const D = window.SluiceDemo;
	const S = D.settings;
	const $ = (id) => document.getElementById(id);

	const sluice = D.client();
	const player = D.persistentId('clash:player');
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

	function setTeam(t) {
		team = t;
		try {
			localStorage.setItem('clash:team', t);
		} catch {
			// no storage
		}
		sluice.track('join', { team }, { channel: S.room }).catch(() => {});
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

	sluice.subscribe(S.room, (env, name) => {
		const d = env.data || {};
		const who = d.user && d.user.id;
		const t = d.team;

		if ((t !== 'red' && t !== 'blue') || !firstSight(env.id))
			return;
		if (who)
			players[t].add(who);
		if (name !== 'click')
			return;
		score[t]++;
		arrivals.push(Date.now());
		recent.unshift({ t, who, at: env.received_at, mine: who ===
		    player });
		recent.length = Math.min(recent.length, 6);
		dirty = true;
	});

	$('click').addEventListener('click', () => {
		const id = window.Sluice.uuid7();

		tracked.push(id);
		sluice.track('click', { team }, { channel: S.room, id })
		    .catch(() => {});
		dirty = true;
		draw();
	});
	$('switch').addEventListener('click', () => {
		setTeam(team === 'red' ? 'blue' : 'red');
		draw();
	});

	function drawRecent() {
		const ul = $('recent');
		ul.textContent = '';
		for (const r of recent) {
			const li = document.createElement('li');
			const time = String(r.at || '').slice(11, 19);
			li.textContent = `${time}  ${r.t} +1  ${r.mine ? 'you' :
			    `player ${r.who || '?'}`}`;
			li.style.color = r.t === 'red' ? 'var(--red)' : 'var(--blue)';
			ul.appendChild(li);
		}
	}

	function draw() {
		const now = Date.now();
		while (arrivals.length && arrivals[0] < now - 5000)
			arrivals.shift();
		$('rate').textContent = (arrivals.length / 5).toFixed(1);
		$('mine').textContent = D.n(tracked.length);
		$('acked').textContent = D.n(sluice.acked);
		$('queued').textContent = D.n(sluice.queued);
		$('dropped').textContent = D.n(sluice.dropped);
		if (!dirty)
			return;
		dirty = false;
		$('score-red').textContent = D.n(score.red);
		$('score-blue').textContent = D.n(score.blue);
		for (const t of ['red', 'blue']) {
			const n = players[t].size;
			$(`players-${t}`).textContent = n === 1 ? '1 player' :
			    `${n || 'no'} players${n ? '' : ' yet'}`;
		}
		const all = score.red + score.blue;
		$('tug').style.width = `${all ? 100 * score.red / all : 50}%`;
		$('team').textContent = team;
		$('team').style.color = `var(--${team})`;
		$('click').className = team;
		drawRecent();
	}

	$('room').textContent = S.room;
	$('player').textContent = player;
	$('to-dashboard').href = D.linkTo('dashboard');
	D.showState(sluice, $('state'));
	setTeam(team);
	sluice.page({ team }, { channel: S.room }).catch(() => {});
	draw();
	setInterval(draw, 250);

	window.clash = { sluice, player, tracked, score,
	    get team() {
		    return team;
	    } };
})();
