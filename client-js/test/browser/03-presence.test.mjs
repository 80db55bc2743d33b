// 03-presence: presence channels and client events in a real chromium,
// served by a real sluiced. In the Pointer Arena, three browser contexts
// (three visitors) see one another in the members list; the pointer moves
// of each reach the other two, drawn where it was with its name, never
// echoed to the mover, and no more than 30 moves a second leave a page;
// when one visitor closes, the other two see it leave and its pointer
// disappear. In Clash of Clicks, two players in one room both show in the
// players list of each. Screenshots of the arena and the game go to the
// artifacts.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { useSluiced } from '../../../tests/lib/amqp.mjs';
import { sleep } from '../../../tests/lib/sluiced.mjs';
import {
	connected, demoOptions, launch, pageUrl, screenshot, SKIP,
} from './lib.mjs';

const opts = SKIP ? null : await demoOptions('browser-presence');
const { s } = useSluiced(opts, { skip: SKIP });

let browser;
before(async () => {
	if (!SKIP)
		browser = await launch();
});
after(async () => {
	if (browser)
		await browser.close();
});

const tag = () => randomBytes(3).toString('hex');

// Opens the page path of the demo in a new context as the visitor name,
// with the query args; resolves {context, page}, its client connected.
async function visit(path, name, args, stateName) {
	const context = await browser.newContext({ viewport: { width: 1280,
	    height: 800 } });
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (err) => errors.push(err.message));
	await page.goto(pageUrl(s, path, { name, ...args }));
	await connected(page, stateName);
	return { context, page, errors };
}

// Waits until the page's presence channel (window[name][field]) has
// exactly the member ids, and its list shows as many.
async function members(page, name, field, ids, list) {
	try {
		await page.waitForFunction(([n, f, want, sel]) => {
			const channel = window[n] && window[n][f];
			const have = channel ? [...channel.members.keys()].sort() : [];
			return channel.subscribed && JSON.stringify(have) ===
			    JSON.stringify(want) && document.querySelectorAll(
			    `${sel} li`).length === want.length;
		}, [name, field, [...ids].sort(), list], { timeout: 15000 });
	} catch (err) {
		const have = await page.evaluate(([n, f]) =>
		    [...window[n][f].members.keys()], [name, field]);
		throw new Error(`members ${JSON.stringify(ids)}, have ` +
		    `${JSON.stringify(have)}: ${err.message.split('\n')[0]}`);
	}
}

// Where (fractions of the field) the point px, py of page's #field is.
async function fieldPoint(page, fx, fy) {
	const box = await page.locator('#field').boundingBox();
	return { x: box.x + fx * box.width, y: box.y + fy * box.height };
}

// Waits until page draws the pointer of id near fx, fy (fractions of the
// field), labelled label.
async function pointerAt(page, id, fx, fy, label) {
	try {
		await page.waitForFunction(([who, x, y, text]) => {
			const p = window.arena.pointerOf(who);
			return p && Math.abs(p.x - x) < 0.01 &&
			    Math.abs(p.y - y) < 0.01 && p.name === text;
		}, [id, fx, fy, label], { timeout: 15000 });
	} catch (err) {
		const p = await page.evaluate((who) => window.arena.pointerOf(who),
		    id);
		throw new Error(`pointer of ${id} at ${fx},${fy}: it is at ` +
		    `${JSON.stringify(p)}: ${err.message.split('\n')[0]}`);
	}
}

describe('presence in chromium', { skip: SKIP }, () => {
	it('the Pointer Arena: three visitors see one another\'s pointers ' +
	    'and who leaves', async (t) => {
		const arena = `presence-arena-${tag()}`;
		const names = ['Ann Arena', 'Bob Arena', 'Cat Arena'];
		const visitors = [];
		try {
			for (const name of names)
				visitors.push(await visit('/arena', name, { arena },
				    'arena'));
			const ids = [];
			for (const v of visitors) {
				v.id = await v.page.evaluate(() => window.arena.visitor.id);
				ids.push(v.id);
			}
			assert.equal(new Set(ids).size, 3);
			for (const v of visitors) {
				await members(v.page, 'arena', 'channel', ids, '#members');
				await v.page.evaluate(() => {
					window.clientErrors = [];
					window.arena.sluice.on('error', (err) =>
					    window.clientErrors.push(`${err.code} ${err.message}`));
				});
			}
			const [ann, bob, cat] = visitors;
			const listed = await ann.page.$$eval('#members li', (items) =>
			    items.map((li) => li.textContent).sort());
			assert.deepEqual(listed, ['Ann Arena (you)', 'Bob Arena',
			    'Cat Arena']);

			// Each moves; the other two see the pointer where it went.
			const spots = [[0.2, 0.3], [0.7, 0.6], [0.45, 0.85]];
			for (const [i, v] of visitors.entries()) {
				const [fx, fy] = spots[i];
				const to = await fieldPoint(v.page, fx, fy);
				await v.page.mouse.move(to.x - 40, to.y - 30);
				await v.page.mouse.move(to.x, to.y, { steps: 8 });
				for (const other of visitors) {
					if (other !== v)
						await pointerAt(other.page, v.id, fx, fy, names[i]);
				}
			}
			// Never echoed to the mover.
			for (const v of visitors) {
				assert.equal(await v.page.evaluate((id) =>
				    window.arena.pointerOf(id), v.id), null);
			}

			// A fast sweep: no more than 30 moves a second leave the
			// page (the last position among them), and sluiced refuses
			// none (its limit for the demo app is 30 a second).
			const before = await ann.page.evaluate(() => window.arena.sent);
			const started = Date.now();
			const from = await fieldPoint(ann.page, 0.1, 0.1);
			const to = await fieldPoint(ann.page, 0.9, 0.5);
			for (let step = 1; step <= 120; step++) {
				const f = step / 120;
				await ann.page.mouse.move(from.x + (to.x - from.x) * f,
				    from.y + (to.y - from.y) * f);
				await sleep(4);
			}
			const seconds = (Date.now() - started) / 1000;
			await pointerAt(bob.page, ann.id, 0.9, 0.5, names[0]);
			await pointerAt(cat.page, ann.id, 0.9, 0.5, names[0]);
			const moves = await ann.page.evaluate(() => window.arena.sent) -
			    before;
			t.diagnostic(`a sweep of 120 pointer moves in ${seconds} s: ` +
			    `${moves} client events sent`);
			assert.ok(moves >= 5, `${moves} moves sent`);
			assert.ok(moves <= Math.ceil(seconds * 30) + 2,
			    `${moves} moves in ${seconds} s`);
			for (const v of visitors) {
				assert.deepEqual(await v.page.evaluate(() =>
				    window.clientErrors), [], names[visitors.indexOf(v)]);
			}
			await screenshot(bob.page, 'arena-three');

			// Cat leaves: the others see it go, and its pointer with it.
			await cat.context.close();
			visitors.pop();
			for (const v of [ann, bob]) {
				await members(v.page, 'arena', 'channel', [ann.id, bob.id],
				    '#members');
				await v.page.waitForFunction((id) =>
				    window.arena.pointerOf(id) === null &&
				    !document.querySelector(`.pointer[data-id="${id}"]`),
				    cat.id, { timeout: 15000 });
			}
			assert.ok(await bob.page.evaluate((id) =>
			    window.arena.pointerOf(id) !== null, ann.id));
			await screenshot(ann.page, 'arena-two');
			for (const v of visitors)
				assert.deepEqual(v.errors, []);
		} finally {
			for (const v of visitors)
				await v.context.close();
		}
	});

	it('Clash of Clicks lists both players of a room', async () => {
		const room = `game-${tag()}`;
		const players = [];
		try {
			for (const name of ['Red Rita', 'Blue Bo'])
				players.push(await visit('/', name, { room }, 'clash'));
			const ids = [];
			for (const p of players)
				ids.push(await p.page.evaluate(() => window.clash.player));
			for (const p of players)
				await members(p.page, 'clash', 'lobby', ids, '#here');
			const [rita, bo] = players;
			assert.deepEqual(await rita.page.$$eval('#here li', (items) =>
			    items.map((li) => li.textContent)), ['Red Rita (you)',
			    'Blue Bo']);
			assert.deepEqual(await bo.page.$$eval('#here li', (items) =>
			    items.map((li) => li.textContent)), ['Blue Bo (you)',
			    'Red Rita']);
			assert.match(await rita.page.textContent('#here-count'),
			    /^2 playing now$/);
			// A click shows in the other's list in the clicker's team.
			await bo.page.click('#click');
			const team = await bo.page.evaluate(() => window.clash.team);
			await rita.page.waitForFunction(([id, side]) => {
				const dot = document.querySelector(
				    `#here li[data-id="${id}"] .dot`);
				return dot && dot.style.background === `var(--${side})`;
			}, [ids[1], team], { timeout: 15000 });
			await screenshot(rita.page, 'game-players');

			// Bo closes: Rita plays alone.
			await bo.context.close();
			players.pop();
			await members(rita.page, 'clash', 'lobby', [ids[0]], '#here');
			assert.deepEqual(rita.errors, []);
		} finally {
			for (const p of players)
				await p.context.close();
		}
	});
});
