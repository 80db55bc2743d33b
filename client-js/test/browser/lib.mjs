// test/browser/lib.mjs: what the browser tests share: Debian's chromium
// driven by playwright-core (or a reason to skip when it is missing), the
// directory of demo pages sluiced serves (SLUICE_WWW, the one make
// assembled, or one assembled here with make-www), the directory the
// screenshots go to, the demo app on a sluiced of the test, and a few
// questions to the pages.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, makeTmpDir, metrics, waitFor } from
    '../../../tests/lib/sluiced.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientJs = path.resolve(here, '../..');

export const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';

// Why the browser tests cannot run (false when they can).
const nodeMajor = Number(process.versions.node.split('.')[0]);
export const SKIP = !fs.existsSync(CHROMIUM) ? `chromium is not installed ` +
    `(${CHROMIUM}; apt-get install chromium): the browser tests are skipped` :
    nodeMajor < 20 ? `playwright-core needs node 20 or later, not ` +
    `${process.version}: the browser tests are skipped` : false;
if (SKIP)
	process.stderr.write(`test/browser: ${SKIP}\n`);

// The flags chromium runs with: headless, no sandbox (root in CI), and no
// traffic of its own. playwright-core adds a fresh --user-data-dir (a new
// temp profile each launch; it refuses one given here).
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-quic', '--no-first-run',
    '--disable-component-update', '--disable-sync'];

export async function launch() {
	const { chromium } = await import('playwright-core');
	return chromium.launch({ executablePath: CHROMIUM, headless: true,
	    args: CHROMIUM_ARGS, timeout: 60000 });
}

/*
 * The directory of demo pages to serve: SLUICE_WWW (set by make check to
 * the build's www/), else one assembled now from this client-js with
 * make-www into a temp dir.
 */
export function wwwDir() {
	const www = process.env.SLUICE_WWW;
	if (www) {
		if (!fs.existsSync(path.join(www, 'index.html')))
			throw new Error(`SLUICE_WWW=${www} has no index.html: ` +
			    'run make (client-js/make-www) first');
		return www;
	}
	const out = path.join(makeTmpDir('sluice-www'), 'www');
	const r = spawnSync(path.join(clientJs, 'make-www'), [clientJs, out],
	    { encoding: 'utf8' });
	if (r.status !== 0 || !fs.existsSync(path.join(out, 'index.html')))
		throw new Error(`make-www failed (${r.status}): ${r.stderr}`);
	return out;
}

// The directory for screenshots, made and printed once.
let artifacts = null;
export function artifactsDir() {
	if (!artifacts) {
		artifacts = path.join(process.env.SLUICE_TEST_ARTIFACTS ||
		    path.join(os.tmpdir(), 'sluice-test-artifacts'), 'browser');
		fs.mkdirSync(artifacts, { recursive: true });
		process.stderr.write(`test/browser: screenshots in ${artifacts}\n`);
	}
	return artifacts;
}

// Writes a screenshot of page as NAME.png in the artifacts; its path.
export async function screenshot(page, name) {
	const file = path.join(artifactsDir(), `${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

/*
 * The options of startSluiced for the demo: HTTP on a port chosen now (the
 * pages' origin, which the app must allow), static_dir the demo pages, and
 * an app like the demo app of conf/sluiced.conf.
 */
export async function demoOptions(name) {
	const port = await freePort();
	return {
		name,
		port,
		waitWs: true,
		waitReady: true,
		server: { static_dir: wwwDir() },
		apps: [{
			id: 'demo',
			key: 'demo-key-0001',
			secret: 'demo-secret-0123456789',
			origins: [`http://127.0.0.1:${port}`],
			default_channel: 'events',
			publish_channels: ['events', 'game-*'],
			public_channels: ['events', 'game-*', 'presence-game-*',
			    'presence-arena*'],
			client_events: 'live',
			client_event_rate: 30,
			client_event_burst: 60,
		}],
	};
}

// The URL of a demo page (path '/', '/arena' or '/dashboard') of daemon s, with
// the WebSocket URL and the query arguments args.
export function pageUrl(s, page, args = {}) {
	const q = new URLSearchParams({ ws: s.wsUrl, ...args });
	return `${s.baseUrl}${page}?${q}`;
}

/*
 * A TCP relay on a free port of 127.0.0.1 to port, standing for the
 * network between the browser and sluiced's WebSocket: cut() destroys the
 * connections and refuses new ones until restore(). (Chromium's offline
 * emulation only holds a WebSocket's frames and lets them go once back
 * online; a network that goes away loses them, and so does cut().)
 * Resolves {port, cut, restore, close}.
 */
export async function relay(port) {
	const socks = new Set();
	let down = false;
	const srv = net.createServer((a) => {
		if (down) {
			a.destroy();
			return;
		}
		const b = net.connect(port, '127.0.0.1');
		socks.add(a);
		socks.add(b);
		a.pipe(b);
		b.pipe(a);
		for (const [x, y] of [[a, b], [b, a]]) {
			x.on('error', () => y.destroy());
			x.on('close', () => {
				socks.delete(x);
				y.destroy();
			});
		}
	});
	await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
	return {
		port: srv.address().port,
		cut() {
			down = true;
			for (const x of socks)
				x.destroy();
		},
		restore() {
			down = false;
		},
		close() {
			this.cut();
			return new Promise((resolve) => srv.close(resolve));
		},
	};
}

// What the page's client (window[name].sluice) is at, for a failure.
async function clientState(page, name) {
	try {
		return JSON.stringify(await page.evaluate((n) => {
			const c = window[n] && window[n].sluice;
			return { url: location.href, state: c && c.state,
			    queued: c && c.queued, acked: c && c.acked,
			    dropped: c && c.dropped,
			    storage: Object.keys(localStorage) };
		}, name));
	} catch (e) {
		return `unknown (${e.message})`;
	}
}

/*
 * Waits (timeout ms) until fn(client, arg) is true of the page's client
 * (window[name].sluice); on a timeout the error says what was waited for
 * and where the client is.
 */
export async function until(page, name, fn, { arg, what = 'condition',
    timeout = 15000 } = {}) {
	try {
		await page.waitForFunction(([n, src, a]) => window[n] &&
		    (0, eval)(`(${src})`)(window[n].sluice, a), [name,
		    fn.toString(), arg], { timeout });
	} catch (e) {
		throw new Error(`${what}: ${e.message.split('\n')[0]}; client: ` +
		    await clientState(page, name));
	}
}

// Waits until the page's client (window[name].sluice) is connected.
export function connected(page, name) {
	return until(page, name, (c) => c.state === 'connected',
	    { what: `${name} connected` });
}

// Waits until sluiced counts n subscriptions at least.
export async function subscriptions(s, n) {
	await waitFor(async () => (await metrics(s)).get(
	    'sluice_ws_subscriptions') >= n, { what: `${n} subscriptions` });
}

// The number shown in element #id of page (thousands separators gone).
export async function shown(page, id) {
	const text = await page.textContent(`#${id}`);
	return Number(text.replace(/,/g, ''));
}
