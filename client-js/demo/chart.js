// chart.js: the dashboard's live chart, drawn on a canvas with no library:
// events per second by event name over the last minute, one line per name
// (the busiest eight; the rest summed as "other"). Defines
// window.SluiceChart.

(function () {
	'use strict';

	const COLORS = ['#3f8cff', '#ef4f5f', '#38c98a', '#f2b33d', '#b07cff',
	    '#2fd0d0', '#ff8a3d', '#e06fd1'];
	const OTHER = '#8b97b0';
	const MAX_LINES = 8;

	// The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
	// power of ten) that is >= x: the top of the y axis.
	function nice(x) {
		const p = 10 ** Math.floor(Math.log10(x));
		for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
			if (m * p >= x)
				return m * p;
		}
		return 10 * p;
	}

	class RateChart {
		// A chart on canvas of the last seconds seconds.
		constructor(canvas, seconds = 60) {
			this.canvas = canvas;
			this.seconds = seconds;
			this.buckets = new Map();	// second -> Map(name -> count)
			this.colors = new Map();	// name -> color, by first sight
		}

		// Counts one event called name, arrived at ms.
		add(name, ms) {
			const sec = Math.floor(ms / 1000);
			let b = this.buckets.get(sec);

			if (!b)
				this.buckets.set(sec, b = new Map());
			b.set(name, (b.get(name) || 0) + 1);
			if (!this.colors.has(name) && this.colors.size < COLORS.length)
				this.colors.set(name, COLORS[this.colors.size]);
		}

		// Events in the whole second before the one of ms.
		lastSecond(ms) {
			const b = this.buckets.get(Math.floor(ms / 1000) - 1);
			let n = 0;

			for (const v of b ? b.values() : [])
				n += v;
			return n;
		}

		/*
		 * The series of the window ending with the last whole second
		 * before ms: [{name, color, points (events/s, oldest first),
		 * now}], busiest first; drops the buckets older than the window.
		 */
		series(ms) {
			const end = Math.floor(ms / 1000) - 1;
			const start = end - this.seconds + 1;
			const sums = new Map();

			for (const sec of this.buckets.keys()) {
				if (sec < start - 1)
					this.buckets.delete(sec);
			}
			for (const [sec, b] of this.buckets) {
				if (sec < start || sec > end)
					continue;
				for (const [name, v] of b)
					sums.set(name, (sums.get(name) || 0) + v);
			}
			const names = [...sums.keys()].sort((a, b) => sums.get(b) -
			    sums.get(a));
			const shown = names.slice(0, names.length > MAX_LINES ?
			    MAX_LINES - 1 : MAX_LINES);
			const rest = new Set(names.slice(shown.length));
			const out = shown.map((name) => ({ name, color:
			    this.colors.get(name) || OTHER, points: [] }));
			if (rest.size)
				out.push({ name: 'other', color: OTHER, points: [] });
			for (let sec = start; sec <= end; sec++) {
				const b = this.buckets.get(sec) || new Map();
				let other = 0;
				for (const s of out) {
					if (s.name !== 'other' || !rest.size)
						s.points.push(b.get(s.name) || 0);
				}
				for (const name of rest)
					other += b.get(name) || 0;
				if (rest.size)
					out[out.length - 1].points.push(other);
			}
			for (const s of out)
				s.now = s.points[s.points.length - 1];
			return out;
		}

		// Draws the window ending at ms; returns its series.
		draw(ms) {
			const cv = this.canvas;
			const dpr = window.devicePixelRatio || 1;
			const w = cv.clientWidth;
			const h = cv.clientHeight;
			const all = this.series(ms);
			const L = 46;
			const R = 8;
			const T = 8;
			const B = 22;

			if (cv.width !== Math.round(w * dpr) ||
			    cv.height !== Math.round(h * dpr)) {
				cv.width = Math.round(w * dpr);
				cv.height = Math.round(h * dpr);
			}
			const g = cv.getContext('2d');
			g.setTransform(dpr, 0, 0, dpr, 0, 0);
			g.clearRect(0, 0, w, h);
			let max = 0;
			for (const s of all) {
				for (const v of s.points)
					max = Math.max(max, v);
			}
			const top = nice(Math.max(max, 5));
			const pw = w - L - R;
			const ph = h - T - B;
			const x = (i) => L + pw * i / (this.seconds - 1);
			const y = (v) => T + ph - ph * v / top;

			g.font = '11px system-ui, sans-serif';
			g.lineWidth = 1;
			g.strokeStyle = '#2a3550';
			g.fillStyle = '#8b97b0';
			g.textAlign = 'right';
			g.textBaseline = 'middle';
			for (let k = 0; k <= 4; k++) {
				const v = top * k / 4;
				g.beginPath();
				g.moveTo(L, Math.round(y(v)) + 0.5);
				g.lineTo(w - R, Math.round(y(v)) + 0.5);
				g.stroke();
				g.fillText(String(Math.round(v * 10) / 10), L - 6, y(v));
			}
			g.textAlign = 'center';
			g.textBaseline = 'top';
			for (const ago of [60, 45, 30, 15, 0]) {
				if (ago >= this.seconds)
					continue;
				const i = this.seconds - 1 - ago;
				g.textAlign = ago ? 'center' : 'right';
				g.fillText(ago ? `-${ago}s` : 'now', x(i), T + ph + 6);
			}
			for (const s of [...all].reverse()) {
				g.beginPath();
				s.points.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) :
				    g.moveTo(x(i), y(v))));
				g.lineTo(x(s.points.length - 1), y(0));
				g.lineTo(x(0), y(0));
				g.closePath();
				g.globalAlpha = 0.12;
				g.fillStyle = s.color;
				g.fill();
				g.globalAlpha = 1;
				g.beginPath();
				s.points.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) :
				    g.moveTo(x(i), y(v))));
				g.strokeStyle = s.color;
				g.lineWidth = 2;
				g.stroke();
			}
			if (!all.length) {
				g.fillStyle = '#8b97b0';
				g.textBaseline = 'middle';
				g.fillText('waiting for events…', L + pw / 2, T + ph / 2);
			}
			return all;
		}
	}

	window.SluiceChart = { RateChart };
})();
