// 02-delivery: no click is lost in a real chromium. Clicks made offline
// (the context set offline, and the relay standing for the network to the
// WebSocket cut) stay queued (nothing reaches sluiced), survive a reload
// that fails for want of a network, and are all delivered, with the ids
// they were given, once the browser is back online and the page is loaded
// again (the new page load adopts the queue the old one left in
// localStorage). A click
// right before the tab is closed is delivered by the beacon sent on
// pagehide. Duplicates (same id only) are counted and printed.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { useSluiced } from '../../../tests/lib/amqp.mjs';
import { metrics, sleep, waitFor } from '../../../tests/lib/sluiced.mjs';
import {
	connected, demoOptions, launch, pageUrl, relay, screenshot, SKIP,
	subscriptions, until,
} from './lib.mjs';

const opts = SKIP ? null : await demoOptions('browser-delivery');
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

function room() {
	return `game-${randomBytes(3).toString('hex')}`;
}

describe('delivery from chromium', { skip: SKIP }, () => {
	it('offline clicks survive a reload and are delivered once back ' +
	    'online', async (t) => {
		const ctx = await browser.newContext();
		const net = await relay(s.wsPort);
		try {
			const url = pageUrl(s, '/', { room: room(),
			    ws: `ws://127.0.0.1:${net.port}` });
			const page = await ctx.newPage();
			await page.goto(url);
			await connected(page, 'clash');
			await subscriptions(s, 1);
			for (let i = 0; i < 3; i++)
				await page.click('#click');
			await until(page, 'clash', (c) => c.queued === 0 &&
			    c.acked >= 3, { what: '3 clicks acknowledged' });
			const online = await page.evaluate(() => window.clash.tracked);
			const first = await broker.collectIds(s.names.queue, online,
			    { timeout: 10000 });
			assert.deepEqual(first.missing, []);

			await ctx.setOffline(true);
			net.cut();
			assert.equal(await page.evaluate(() => navigator.onLine), false);
			for (let i = 0; i < 7; i++)
				await page.click('#click');
			const offline = (await page.evaluate(() =>
			    window.clash.tracked)).slice(3);
			assert.equal(offline.length, 7);
			// Nothing of it gets out while offline.
			const early = await broker.collectIds(s.names.queue, offline,
			    { timeout: 2000 });
			assert.equal(early.messages.size, 0,
			    'clicks went out while offline');
			assert.equal(await page.evaluate(() =>
			    window.clash.sluice.queued), 7);
			assert.equal(await page.textContent('#queued'), '7');
			await screenshot(page, 'game-offline');

			// The reload fails (no network): the page is gone, its
			// queue is in localStorage.
			await assert.rejects(page.reload(), /ERR_INTERNET_DISCONNECTED/);
			await page.waitForFunction(() => !window.clash, null,
			    { timeout: 10000 });
			net.restore();
			await ctx.setOffline(false);
			const back = Date.now();
			await page.goto(url);
			await connected(page, 'clash');

			// The new page load adopted the queue the old one left
			// and sent it: 7 clicks, then its own join and page view.
			await until(page, 'clash', (c) => c.queued === 0 &&
			    c.acked >= 9, { what: 'the queue adopted and sent',
			    timeout: 30000 });
			assert.equal(await page.evaluate(() =>
			    window.clash.sluice.dropped), 0);
			await waitFor(async () => (await metrics(s)).get(
			    'sluice_journal_unconfirmed_records') === 0,
			    { what: 'every event confirmed by RabbitMQ' });

			// In RabbitMQ: every click, duplicates with the same id
			// only (a request the old page made while offline may
			// still get through once back online).
			const copies = new Map(offline.map((id) => [id, []]));
			for (const m of await broker.drain(s.names.queue)) {
				if (copies.has(m.properties.messageId))
					copies.get(m.properties.messageId).push(m.body);
			}
			const missing = offline.filter((id) => !copies.get(id).length);
			const all = [...copies.values()].flat();
			const sources = {};
			for (const env of all)
				sources[env.source] = (sources[env.source] || 0) + 1;
			t.diagnostic(`RabbitMQ: ${offline.length - missing.length} of ` +
			    `the 7 clicks made offline, lost ${missing.length}, ` +
			    `duplicates ${all.length - offline.length + missing.length}` +
			    ` (same id); copies by source ${JSON.stringify(sources)}`);
			assert.deepEqual(missing, []);
			for (const env of all) {
				assert.equal(env.event, 'click');
				assert.ok(env.client_timestamp < back);
				assert.equal(env.origin, s.baseUrl);
			}
		} finally {
			await ctx.close();
			await net.close();
		}
	});

	it('a click right before the tab closes is delivered by the beacon',
	    async (t) => {
		const ctx = await browser.newContext();
		try {
			// A partial batch waits 10 s here: only the beacon can
			// send the click before the page is gone.
			const page = await ctx.newPage();
			await page.goto(pageUrl(s, '/', { room: room(),
			    flush: 10000 }));
			await connected(page, 'clash');
			await until(page, 'clash', (c) => c.queued === 0,
			    { what: 'the join and the page view acknowledged' });
			await page.click('#click');
			const [id] = await page.evaluate(() => window.clash.tracked);
			assert.equal(await page.evaluate(() =>
			    window.clash.sluice.queued), 1);
			const t0 = Date.now();
			await page.close();
			const got = await broker.collectIds(s.names.queue, [id],
			    { timeout: 10000 });
			t.diagnostic(`the click reached RabbitMQ ${Date.now() - t0} ms ` +
			    `after the tab closed; duplicates ${got.dups}`);
			assert.deepEqual(got.missing, []);
			const env = got.messages.get(id).body;
			assert.equal(env.event, 'click');
			// By the beacon: POST /v1/events, not the WebSocket.
			assert.equal(env.source, 'http');
			assert.equal(env.origin, s.baseUrl);
			// Nothing else goes out (no later page adopts it here).
			await sleep(500);
			assert.equal(await broker.count(s.names.queue), 0);
		} finally {
			await ctx.close();
		}
	});
});
