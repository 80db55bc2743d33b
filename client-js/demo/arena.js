// arena.js: the Pointer Arena (arena.html). Every visitor's pointer moves
// in one field for everyone to see. The page joins a presence channel (the
// arena setting, default presence-arena) as the visitor (its name and
// colour are its user_info); each move of the pointer inside the field is
// a client event, client-move {x, y} (fractions of the field's width and
// height), sent at most MOVES_PER_SECOND times a second, the last position
// always going out; leaving the field sends client-out. The others' moves
// arrive with their member, so each pointer is drawn with its name and
// colour; the members list is who is here, and a member removed takes its
// pointer with it.
//
// window.arena holds the state, for the browser tests.

(function () {
	'use strict';

	const demo = window.SluiceDemo;
	const settings = demo.settings;
	const $ = (id) => document.getElementById(id);
	const MOVES_PER_SECOND = 30;
	const INTERVAL = 1000 / MOVES_PER_SECOND;
	const OUT = 'out';
	const SVG = 'http://www.w3.org/2000/svg';

	const sluice = demo.client();
	const field = $('field');
	const pointers = new Map();	// member id -> {element, x, y}
	const arrivals = [];		// ms of the moves received, last 5 s
	let pending = null;		// {x, y} or OUT, not yet sent
	let lastSent = -Infinity;	// when the last one was sent (ms)
	let timer = null;
	let sent = 0;
	let received = 0;

	const channel = sluice.join(settings.arena, {
		subscribed: () => {
			for (const id of [...pointers.keys()]) {
				if (!channel.members.has(id))
					removePointer(id);
			}
			drawMembers();
		},
		member_added: () => drawMembers(),
		member_removed: (member) => {
			removePointer(member.id);
			drawMembers();
		},
		client: (data, name, member) => {
			if (!member)
				return;
			if (name === 'client-move') {
				received++;
				arrivals.push(Date.now());
				movePointer(member, data);
			} else if (name === 'client-out') {
				removePointer(member.id);
			}
		},
	});

	// A fraction in [0, 1] from what another visitor sent, or null.
	function fraction(value) {
		return typeof value === 'number' && Number.isFinite(value) ?
		    Math.min(1, Math.max(0, value)) : null;
	}

	// A pointer's element: an arrow and a label, in the member's colour.
	function pointerElement(member) {
		const info = member.info || {};
		const element = document.createElement('div');
		const arrow = document.createElementNS(SVG, 'svg');
		const path = document.createElementNS(SVG, 'path');
		const label = document.createElement('span');
		element.className = 'pointer';
		element.dataset.id = member.id;
		arrow.setAttribute('viewBox', '0 0 18 22');
		path.setAttribute('d', 'M1 1 L1 19 L6 14 L10 21 L13 19.5 L9 13 ' +
		    'L16 13 Z');
		path.setAttribute('stroke', '#0f1420');
		path.setAttribute('stroke-width', '1.5');
		path.style.fill = info.color || '#8b97b0';
		label.style.background = info.color || '#8b97b0';
		label.textContent = info.name || member.id;
		arrow.appendChild(path);
		element.append(arrow, label);
		return element;
	}

	function movePointer(member, data) {
		const x = fraction(data && data.x);
		const y = fraction(data && data.y);
		let pointer = pointers.get(member.id);

		if (x === null || y === null || !channel.members.has(member.id))
			return;
		if (!pointer) {
			pointer = { element: pointerElement(member) };
			pointers.set(member.id, pointer);
			field.appendChild(pointer.element);
		}
		pointer.x = x;
		pointer.y = y;
		pointer.element.style.left = `${x * 100}%`;
		pointer.element.style.top = `${y * 100}%`;
		// Near the right edge, the label goes to the left of the arrow.
		pointer.element.classList.toggle('flip', x > 0.85);
	}

	function removePointer(id) {
		const pointer = pointers.get(id);

		if (pointer) {
			pointer.element.remove();
			pointers.delete(id);
		}
	}

	// Sends what is pending, if the throttle lets it; else waits.
	function send() {
		const wait = lastSent + INTERVAL - performance.now();

		if (pending === null || timer !== null)
			return;
		if (wait > 0) {
			timer = setTimeout(() => {
				timer = null;
				send();
			}, wait);
			return;
		}
		// Live only: a move that cannot go now is of no use later.
		if (pending === OUT ? channel.trigger('client-out', {}) :
		    channel.trigger('client-move', pending))
			sent++;
		pending = null;
		lastSent = performance.now();
	}

	field.addEventListener('pointermove', (event) => {
		const box = field.getBoundingClientRect();
		const round = (value) => Math.round(value * 10000) / 10000;

		pending = {
			x: round(Math.min(1, Math.max(0, (event.clientX - box.left) /
			    box.width))),
			y: round(Math.min(1, Math.max(0, (event.clientY - box.top) /
			    box.height))),
		};
		send();
	});
	field.addEventListener('pointerleave', () => {
		pending = OUT;
		send();
	});

	function drawMembers() {
		const list = $('members');
		const members = [...channel.members.values()].sort((a, b) =>
		    String(a.info && a.info.name).localeCompare(String(b.info &&
		    b.info.name)));
		list.textContent = '';
		for (const member of members)
			list.appendChild(demo.memberItem(member));
		$('count').textContent = channel.subscribed ?
		    `(${members.length})` : '(not connected)';
	}

	function drawStats() {
		const now = Date.now();
		while (arrivals.length && arrivals[0] < now - 5000)
			arrivals.shift();
		$('sent').textContent = demo.format(sent);
		$('rate').textContent = (arrivals.length / 5).toFixed(1);
		// Not subscribed (a lost connection): no one is known to be
		// here until the list comes again.
		if (!channel.subscribed) {
			for (const id of [...pointers.keys()])
				removePointer(id);
			drawMembers();
		}
	}

	$('channel').textContent = settings.arena;
	$('you').appendChild(demo.memberItem({ id: demo.visitor.id,
	    info: { name: demo.visitor.name, color: demo.visitor.color } }));
	$('to-game').href = demo.linkTo('./');
	$('to-dashboard').href = demo.linkTo('dashboard');
	demo.showState(sluice, $('state'));
	drawMembers();
	setInterval(drawStats, 250);

	window.arena = {
		sluice,
		channel,
		visitor: demo.visitor,
		// Where the pointer of member id is ({x, y, name}), or null.
		pointerOf(id) {
			const pointer = pointers.get(id);
			return pointer ? { x: pointer.x, y: pointer.y,
			    name: pointer.element.textContent } : null;
		},
		get sent() {
			return sent;
		},
		get received() {
			return received;
		},
	};
})();
