// 01-demo: the demo pages in a real chromium, served by a real sluiced,
// with a real RabbitMQ behind it. Clicks in the game (one browser context)
// are acknowledged, counted live on the game page, shown on the dashboard
// open in a second context, and found in RabbitMQ with what the browser
// sent; the dashboard under a few hundred events a second posted over HTTP
// receives and charts every one of them, and its own test events are
// queued and acknowledged. Screenshots of both pages go to the artifacts.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { useSluiced } from '../../../tests/lib/amqp.mjs';
import { post, sleep, waitFor } from '../../../tests/lib/sluiced.mjs';
import {
	connected, demoOptions, launch, pageUrl, screenshot, shown, SKIP,
	subscriptions,
} from './lib.mjs';

const opts = SKIP ? null : await demoOptions('browser-demo');
const { s, broker } = useSluiced(opts, { skip: SKIP,
    purgeEach: ['queue'] });

let browser;
before(async () => {
	if (!SKIP)
		browser = await launch();
});
after(async () => {
	if (browser)
		await browser.close();
});

describe('the demo pages in chromium', { skip: SKIP }, () => {
	it('clicks in the game reach the dashboard of another context and ' +
	    'RabbitMQ', async (t) => {
		const room = `game-${randomBytes(3).toString('hex')}`;
		const dashCtx = await browser.newContext({ viewport:
		    { width: 1280, height: 900 } });
		const gameCtx = await browser.newContext({ viewport:
		    { width: 1000, height: 900 } });
		try {
			const dash = await dashCtx.newPage();
			await dash.goto(pageUrl(s, '/dashboard',
			    { channels: `events,${room}` }));
			await connected(dash, 'dashboard');
			await subscriptions(s, 2);
			assert.equal(await dash.textContent('#state'), 'connected');

			const game = await gameCtx.newPage();
			await game.goto(pageUrl(s, '/', { room }));
			await connected(game, 'clash');
			await subscriptions(s, 3);
			const player = await game.evaluate(() => window.clash.player);

			const N = 24;
			for (let i = 0; i < N; i++) {
				if (i === N / 2)
					await game.click('#switch');
				await game.click('#click');
			}
			const ids = await game.evaluate(() => window.clash.tracked);
			assert.equal(ids.length, N);
			assert.equal(new Set(ids).size, N);

			// The game page: acknowledged, nothing queued, and its
			// own clicks counted from the channel, on both teams.
			await game.waitForFunction((n) => {
				const v = (id) => Number(document.getElementById(id)
				    .textContent.replace(/,/g, ''));
				return v('score-red') + v('score-blue') === n &&
				    window.clash.sluice.queued === 0 &&
				    v('queued') === 0;
			}, N, { timeout: 15000 });
			const red = await shown(game, 'score-red');
			const blue = await shown(game, 'score-blue');
			assert.equal(red + blue, N);
			assert.ok(red > 0 && blue > 0, `red ${red}, blue ${blue}`);
			assert.equal(await shown(game, 'queued'), 0);
			assert.ok(await shown(game, 'acked') >= N);
			assert.equal(await shown(game, 'mine'), N);

			// The dashboard: every click, in its feed and totals.
			await dash.waitForFunction((want) => want.every((id) =>
			    window.dashboard.has(id)), ids, { timeout: 15000 });
			await sleep(600);	// one more redraw
			const rows = await dash.$$eval('#feed tr[data-event="click"]',
			    (trs) => trs.map((tr) => tr.dataset.id));
			assert.deepEqual(new Set(rows), new Set(ids));
			assert.equal(await dash.evaluate(() =>
			    window.dashboard.totals.get('click')), N);
			assert.equal(await dash.evaluate(() => window.dashboard.dups),
			    0);
			const legend = await dash.textContent('#legend');
			assert.match(legend, /click \d+\/s · 24/);

			// RabbitMQ: every click, as the browser sent it.
			const got = await broker.collectIds(s.names.queue, ids,
			    { timeout: 30000 });
			t.diagnostic(`RabbitMQ: ${got.messages.size} of ${N} clicks, ` +
			    `duplicates ${got.dups}, other events ${got.others}`);
			assert.deepEqual(got.missing, []);
			assert.equal(got.dups, 0);
			const teams = new Set();
			for (const id of ids) {
				const env = got.messages.get(id).body;
				assert.equal(env.event, 'click');
				assert.equal(env.channel, room);
				assert.equal(env.app, 'demo');
				assert.equal(env.source, 'ws');
				assert.equal(env.origin, s.baseUrl);
				assert.match(env.user_agent, /Chrome\//);
				assert.equal(env.data.user.id, player);
				teams.add(env.data.team);
				assert.equal(typeof env.client_sent_at, 'number');
			}
			assert.deepEqual([...teams].sort(), ['blue', 'red']);
			// The rest: the page view and the two joins.
			assert.equal(got.others, 3);

			await dash.waitForFunction(() => window.dashboard.metrics &&
			    window.dashboard.metrics.accepted >= 27, null,
			    { timeout: 5000 });
			const files = [await screenshot(game, 'game'),
			    await screenshot(dash, 'dashboard')];
			t.diagnostic(`screenshots: ${files.join(' ')}`);
		} finally {
			await dashCtx.close();
			await gameCtx.close();
		}
	});

	it('the dashboard under load: every event received and charted, its ' +
	    'own events queued and acknowledged', async (t) => {
		const room = `game-${randomBytes(3).toString('hex')}`;
		const ctx = await browser.newContext({ viewport:
		    { width: 1280, height: 900 } });
		const gameCtx = await browser.newContext();
		try {
			const dash = await ctx.newPage();
			await dash.goto(pageUrl(s, '/dashboard',
			    { channels: `events,${room}` }));
			await connected(dash, 'dashboard');
			await subscriptions(s, 2);
			const game = await gameCtx.newPage();
			await game.goto(pageUrl(s, '/', { room }));
			await connected(game, 'clash');
			await subscriptions(s, 3);

			// About 300 events/s for 8 s (or
			// SLUICE_BROWSER_LOAD_SECONDS), in requests of 9 to 21
			// every 50 ms, of four kinds, on the default channel and the
			// room; a player clicks meanwhile. The screenshot is
			// taken a second before the end.
			const loadMs = 1000 * (Number(
			    process.env.SLUICE_BROWSER_LOAD_SECONDS) || 8);
			// The mix and the rate wave, so that the chart has
			// something to show.
			const kinds = [['page_view', 5, 0], ['add_to_cart', 3, 2],
			    ['signup', 1, 4], ['purchase', 1.5, 1]];
			const pick = (n, ms) => {
				const w = kinds.map(([, base, phase]) => base *
				    (1 + 0.7 * Math.sin(ms / 3000 + phase)));
				let r = ((n * 2654435761) % 1000) / 1000 *
				    w.reduce((a, b) => a + b);
				for (const [i, x] of w.entries()) {
					if ((r -= x) < 0)
						return kinds[i][0];
				}
				return kinds[0][0];
			};
			const ids = [];
			let posted = 0;
			let maxRate = 0;
			let shot = null;
			let sent = false;
			const start = Date.now();
			let clicking = true;
			const clicks = (async () => {
				while (clicking) {
					await game.click('#click');
					await sleep(60);
				}
			})();
			for (let k = 0; Date.now() - start < loadMs; k++) {
				const batch = [];
				const now = Date.now() - start;
				const size = 15 + Math.round(6 * Math.sin(now / 2000));
				for (let i = 0; i < size; i++) {
					const n = posted + i;
					const id = `load-${n}-${randomBytes(4)
					    .toString('hex')}`;
					batch.push({ id, event: pick(n, now), channel: n % 5 ?
					    'events' : room, data: { n, cart: n % 7 } });
					ids.push(id);
				}
				const r = await post(`${s.url}?key=${s.key}`, batch,
				    { headers: { Origin: s.baseUrl } });
				assert.equal(r.status, 202, r.text);
				posted += batch.length;
				const ms = Date.now() - start;
				if (!sent && ms >= 2000) {
					sent = true;
					await dash.click('#send-100');
				}
				if (k % 10 === 0) {
					maxRate = Math.max(maxRate,
					    await shown(dash, 't-rate'));
				}
				if (!shot && ms >= loadMs - 1000)
					shot = screenshot(dash, 'dashboard-load');
				await sleep(Math.max(0, start + 50 * (k + 1) -
				    Date.now()));
			}
			if (shot)
				await shot;
			clicking = false;
			await clicks;
			const secs = (Date.now() - start) / 1000;
			t.diagnostic(`posted ${posted} events in ${secs.toFixed(1)} s ` +
			    `(${Math.round(posted / secs)}/s); the dashboard showed ` +
			    `up to ${maxRate} events/s`);
			assert.ok(maxRate >= 100, `the dashboard showed ${maxRate}/s`);

			// Every posted event reached the dashboard, once.
			await dash.waitForFunction((want) => want.every((id) =>
			    window.dashboard.has(id)), ids, { timeout: 20000 });
			const d = await dash.evaluate(() => ({
				received: window.dashboard.received,
				dups: window.dashboard.dups,
				totals: Object.fromEntries(window.dashboard.totals),
			}));
			t.diagnostic(`dashboard: ${JSON.stringify(d)}`);
			assert.equal(d.dups, 0);
			// Its own 100 test events: acknowledged and back.
			await dash.waitForFunction(() =>
			    window.dashboard.totals.get('dashboard_test') === 100 &&
			    window.dashboard.sluice.acked >= 100 &&
			    window.dashboard.sluice.queued === 0, null,
			    { timeout: 15000 });
			await sleep(600);
			assert.equal(await shown(dash, 'c-queued'), 0);
			assert.equal(await shown(dash, 'c-acked'), 100);
			assert.ok(await shown(dash, 't-received') >= posted + 100);
			const clicksSeen = d.totals.click || 0;
			assert.ok(clicksSeen > 0, 'the player\'s clicks were seen');
			// The chart's legend lists the five posted kinds.
			const legend = await dash.textContent('#legend');
			for (const n of ['page_view', 'add_to_cart', 'signup',
			    'purchase'])
				assert.match(legend, new RegExp(`${n} \\d+/s`));
			t.diagnostic(`screenshot: ${await screenshot(dash,
			    'dashboard-after-load')}`);
		} finally {
			await ctx.close();
			await gameCtx.close();
		}
	});
});
