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
	// power of ten) that is >= value: the top of the y axis.
	function nice(value) {
		const power = 10 ** Math.floor(Math.log10(value));
		for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
			if (step * power >= value)
				return step * power;
		}
		return 10 * power;
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
			const second = Math.floor(ms / 1000);
			let bucket = this.buckets.get(second);

			if (!bucket)
				this.buckets.set(second, bucket = new Map());
			bucket.set(name, (bucket.get(name) || 0) + 1);
			if (!this.colors.has(name) && this.colors.size < COLORS.length)
				this.colors.set(name, COLORS[this.colors.size]);
		}

		// Events in the whole second before the one of ms.
		lastSecond(ms) {
			const bucket = this.buckets.get(Math.floor(ms / 1000) - 1);
			let count = 0;

			for (const events of bucket ? bucket.values() : [])
				count += events;
			return count;
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

			for (const second of this.buckets.keys()) {
				if (second < start - 1)
					this.buckets.delete(second);
			}
			for (const [second, bucket] of this.buckets) {
				if (second < start || second > end)
					continue;
				for (const [name, count] of bucket)
					sums.set(name, (sums.get(name) || 0) + count);
			}
			const names = [...sums.keys()].sort((left, right) =>
			    sums.get(right) - sums.get(left));
			const shown = names.slice(0, names.length > MAX_LINES ?
			    MAX_LINES - 1 : MAX_LINES);
			const rest = new Set(names.slice(shown.length));
			const out = shown.map((name) => ({ name, color:
			    this.colors.get(name) || OTHER, points: [] }));
			if (rest.size)
				out.push({ name: 'other', color: OTHER, points: [] });
			for (let second = start; second <= end; second++) {
				const bucket = this.buckets.get(second) || new Map();
				let other = 0;
				for (const line of out) {
					if (line.name !== 'other' || !rest.size)
						line.points.push(bucket.get(line.name) || 0);
				}
				for (const name of rest)
					other += bucket.get(name) || 0;
				if (rest.size)
					out[out.length - 1].points.push(other);
			}
			for (const line of out)
				line.now = line.points[line.points.length - 1];
			return out;
		}

		// Draws the window ending at ms; returns its series.
		draw(ms) {
			const canvas = this.canvas;
			const ratio = window.devicePixelRatio || 1;
			const width = canvas.clientWidth;
			const height = canvas.clientHeight;
			const all = this.series(ms);
			const left = 46;	// the margins, px
			const right = 8;
			const top = 8;
			const bottom = 22;

			if (canvas.width !== Math.round(width * ratio) ||
			    canvas.height !== Math.round(height * ratio)) {
				canvas.width = Math.round(width * ratio);
				canvas.height = Math.round(height * ratio);
			}
			const context = canvas.getContext('2d');
			context.setTransform(ratio, 0, 0, ratio, 0, 0);
			context.clearRect(0, 0, width, height);
			let max = 0;
			for (const line of all) {
				for (const value of line.points)
					max = Math.max(max, value);
			}
			const highest = nice(Math.max(max, 5));
			const plotWidth = width - left - right;
			const plotHeight = height - top - bottom;
			const x = (i) => left + plotWidth * i / (this.seconds - 1);
			const y = (value) => top + plotHeight - plotHeight * value /
			    highest;
			// The path through points, one a second.
			const trace = (points) => points.forEach((value, i) => (i ?
			    context.lineTo(x(i), y(value)) :
			    context.moveTo(x(i), y(value))));

			context.font = '11px system-ui, sans-serif';
			context.lineWidth = 1;
			context.strokeStyle = '#2a3550';
			context.fillStyle = '#8b97b0';
			context.textAlign = 'right';
			context.textBaseline = 'middle';
			for (let k = 0; k <= 4; k++) {
				const value = highest * k / 4;
				context.beginPath();
				context.moveTo(left, Math.round(y(value)) + 0.5);
				context.lineTo(width - right, Math.round(y(value)) + 0.5);
				context.stroke();
				context.fillText(String(Math.round(value * 10) / 10), left - 6,
				    y(value));
			}
			context.textAlign = 'center';
			context.textBaseline = 'top';
			for (const ago of [60, 45, 30, 15, 0]) {
				if (ago >= this.seconds)
					continue;
				const i = this.seconds - 1 - ago;
				context.textAlign = ago ? 'center' : 'right';
				context.fillText(ago ? `-${ago}s` : 'now', x(i),
				    top + plotHeight + 6);
			}
			for (const line of [...all].reverse()) {
				context.beginPath();
				trace(line.points);
				context.lineTo(x(line.points.length - 1), y(0));
				context.lineTo(x(0), y(0));
				context.closePath();
				context.globalAlpha = 0.12;
				context.fillStyle = line.color;
				context.fill();
				context.globalAlpha = 1;
				context.beginPath();
				trace(line.points);
				context.strokeStyle = line.color;
				context.lineWidth = 2;
				context.stroke();
			}
			if (!all.length) {
				context.fillStyle = '#8b97b0';
				context.textBaseline = 'middle';
				context.fillText('waiting for events…', left + plotWidth / 2,
				    top + plotHeight / 2);
			}
			return all;
		}
	}

	window.SluiceChart = { RateChart };
})();
