// tests/lib/sluiced.mjs: runs a real sluiced for a test and talks HTTP to it.
//
// startSluiced() writes a config with a free HTTP port and, unless told
// otherwise, an exchange, unrouted exchange and archive queue whose names are
// unique to the calling test file, so files run in parallel without seeing
// each other's messages. Every daemon started here is SIGKILLed when the test
// process exits, whatever happened; when a test failed, the tail of each
// daemon's log is printed and its temp dir is kept.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SRCDIR = process.env.SLUICE_SRCDIR || path.resolve(here, '../..');
export const SLUICED = process.env.SLUICED || path.join(SRCDIR, 'sluiced');
export const AMQP_URL = process.env.SLUICE_TEST_AMQP_URL ||
    'amqp://guest:guest@127.0.0.1:5672';
export const RABBITMQ_NODE = path.join(SRCDIR, 'tools', 'rabbitmq-node');

// The app every test config has unless apps are given.
export const TEST_APP = Object.freeze({
	id: 'web',
	key: 'web-key-0001',
	secret: 'web-secret-0123456789',
	origins: ['https://allowed.example', 'http://localhost:3000'],
	default_channel: 'events',
	publish_channels: ['events', 'game-*', 'chat.*'],
	public_channels: ['events', 'game-*'],
});

const running = new Set();	// daemons not yet known to have exited
const tmpdirs = [];		// removed at exit unless a test failed
const logs = [];		// [label, path] of every daemon's log

function failed() {
	return process.exitCode !== undefined && process.exitCode !== 0;
}

function atExit() {
	for (const s of running) {
		try {
			s.proc.kill('SIGKILL');
		} catch {
			// already gone
		}
	}
	const keep = failed() || process.env.SLUICE_TEST_KEEP;
	if (failed()) {
		for (const [label, file] of logs) {
			let text = '';
			try {
				text = fs.readFileSync(file, 'utf8');
			} catch {
				continue;
			}
			const lines = text.split('\n');
			process.stderr.write(`--- ${label}: last lines of ${file}\n` +
			    lines.slice(-40).join('\n') + '\n');
		}
	}
	for (const dir of tmpdirs) {
		if (keep)
			process.stderr.write(`kept ${dir}\n`);
		else
			fs.rmSync(dir, { recursive: true, force: true });
	}
}

// Hooked once the test file's body ran: node:test sets exitCode on a
// failure in an exit handler of its own, which must run before this one.
let atExitHooked = false;
function hookExit() {
	if (atExitHooked)
		return;
	atExitHooked = true;
	setImmediate(() => process.on('exit', atExit));
	// A test run cut short (a timeout, ^C) leaves no daemon behind.
	for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
		process.on(sig, () => {
			process.exitCode = 128 + n;
			process.exit();
		});
	}
}

// A new temp directory, removed when the process exits (kept on failure).
export function makeTmpDir(tag = 'sluice') {
	hookExit();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${tag}-`));
	tmpdirs.push(dir);
	return dir;
}

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls fn until it returns a truthy value (returned) or timeout ms pass.
// what names the condition in the error; a function is called then, to
// say how things stand at the timeout.
export async function waitFor(fn, { timeout = 10000, interval = 50,
    what = 'condition' } = {}) {
	const deadline = Date.now() + timeout;
	let last;
	for (;;) {
		try {
			const v = await fn();
			if (v)
				return v;
			last = v;
		} catch (e) {
			last = e;
		}
		if (Date.now() > deadline) {
			const why = last instanceof Error ? `: ${last.message}` :
			    '';
			const label = typeof what === 'function' ? what() : what;
			throw new Error(`timed out after ${timeout} ms waiting for ` +
			    `${label}${why}`);
		}
		await sleep(interval);
	}
}

// A TCP port on 127.0.0.1 that nothing listens on right now.
export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

// A port that refuses connections: a free port nobody listens on.
export async function closedPortUrl() {
	return `amqp://guest:guest@127.0.0.1:${await freePort()}`;
}

// Names unique to one test file (and run): exchange, unrouted, queue.
export function uniqueNames(tag) {
	const id = `${tag}.${process.pid}.${randomBytes(3).toString('hex')}`;
	return {
		prefix: `sluice-test.${id}`,
		exchange: `sluice-test.${id}.events`,
		unrouted: `sluice-test.${id}.unrouted`,
		queue: `sluice-test.${id}.archive`,
	};
}

function iniValue(v) {
	if (Array.isArray(v))
		return v.join(' ');
	return String(v);
}

// Renders {section: {key: value}} and the apps and queues as INI text.
export function renderConfig({ sections = {}, apps = [], queues = null }) {
	let text = '; written by tests/lib/sluiced.mjs\n';
	for (const [name, keys] of Object.entries(sections)) {
		text += `\n[${name}]\n`;
		for (const [k, v] of Object.entries(keys)) {
			if (v !== undefined && v !== null)
				text += `${k} = ${iniValue(v)}\n`;
		}
	}
	if (queues) {
		for (const [name, bind] of Object.entries(queues))
			text += `\n[queue ${name}]\nbind = ${iniValue(bind)}\n`;
	}
	for (const app of apps) {
		text += `\n[app ${app.id}]\n`;
		for (const [k, v] of Object.entries(app)) {
			if (k !== 'id' && v !== undefined && v !== null)
				text += `${k} = ${iniValue(v)}\n`;
		}
	}
	return text;
}

// Runs sluiced with args to completion: {status, stdout, stderr}.
export function runSluiced(args, opts = {}) {
	const r = spawnSync(SLUICED, args, { encoding: 'utf8', timeout: 20000,
	    ...opts });
	if (r.error)
		throw r.error;
	return { status: r.status, signal: r.signal, stdout: r.stdout,
	    stderr: r.stderr };
}

/*
 * Starts sluiced. Options (all optional):
 *   name        tag for names and temp dirs (default "t")
 *   names       {exchange, unrouted, queue} to use instead of unique ones
 *   defaultTopology  true: leave exchange, unrouted_exchange and the queues
 *               to sluiced's defaults (sluice.events, sluice.archive)
 *   queues      {name: bindings} instead of {names.queue: "#"}
 *   apps        list of apps instead of [TEST_APP]
 *   server, limits, journal, amqp   keys overriding the test defaults
 *   amqpUrl     broker URL (default SLUICE_TEST_AMQP_URL)
 *   journalDir  journal directory (default: a new one in the temp dir)
 *   waitReady   also wait until /readyz says 200 (default false)
 *   port        HTTP port (default: a free one)
 *   websocket   keys overriding the [websocket] defaults (listen is
 *               127.0.0.1 on a free port, wsPort)
 *   wsPort      WebSocket port (default: a free one)
 *   waitWs      also wait until the WebSocket port takes connections
 *   env         extra environment
 * Returns a handle: url (of /v1/events), port, baseUrl, wsPort, wsUrl
 * (ws://127.0.0.1:wsPort), dir, configPath,
 * journalDir, logPath, names, app and key (the first app's), proc, pid,
 * exited (a promise of the exit code), log() (the text so far),
 * stop({signal, timeout}) (SIGTERM by default; resolves the exit code),
 * kill() (SIGKILL), restart(moreOpts, stopOpts) (same ports, names and
 * journal; moreOpts override the options above). The handle is the object
 * given as handle, if one is (useSluiced hands it out before the start).
 */
export async function startSluiced(opts = {}, handle = {}) {
	const tag = opts.name || 't';
	const dir = makeTmpDir(`sluice-${tag}`);
	const names = opts.names || uniqueNames(tag);
	const port = opts.port || await freePort();
	let wsPort = opts.wsPort;
	while (!wsPort || wsPort === port)
		wsPort = await freePort();
	const journalDir = opts.journalDir || path.join(dir, 'journal');
	const configPath = path.join(dir, 'sluiced.conf');
	const logPath = path.join(dir, 'sluiced.log');
	const apps = opts.apps || [TEST_APP];
	Object.assign(handle, {
		port,
		url: `http://127.0.0.1:${port}/v1/events`,
		baseUrl: `http://127.0.0.1:${port}`,
		wsPort,
		wsUrl: `ws://127.0.0.1:${wsPort}`,
		dir,
		configPath,
		journalDir,
		logPath,
		names: opts.defaultTopology ? {
			exchange: 'sluice.events',
			unrouted: 'sluice.unrouted',
			queue: 'sluice.archive',
		} : names,
		app: apps[0],
		key: apps[0].key,
		opts,
		proc: null,
		pid: null,
		exited: null,
		log: () => readText(logPath),
		stop: (o) => stopDaemon(handle, o),
		kill: () => killDaemon(handle),
		// Stops the daemon if it runs and starts it again with the same
		// port, names and journal; more options override the first ones.
		restart: async (more = {}, stopOpts = {}) => {
			if (handle.proc)
				await stopDaemon(handle, stopOpts);
			handle.opts = { ...handle.opts, ...more };
			writeConfig(handle);
			await spawnDaemon(handle);
			return handle;
		},
	});
	writeConfig(handle);
	logs.push([`sluiced on port ${port}`, logPath]);
	await spawnDaemon(handle);
	return handle;
}

// Writes handle.configPath from handle.opts (see startSluiced).
function writeConfig(handle) {
	const opts = handle.opts;
	const amqp = {
		url: opts.amqpUrl || AMQP_URL,
		reconnect_min_ms: 50,
		reconnect_max_ms: 500,
		heartbeat: 10,
		...(opts.defaultTopology ? {} : {
			exchange: handle.names.exchange,
			unrouted_exchange: handle.names.unrouted,
		}),
		...opts.amqp,
	};
	const queues = opts.defaultTopology && !opts.queues ? null :
	    (opts.queues || { [handle.names.queue]: '#' });
	const sections = {
		server: {
			http_listen: `127.0.0.1:${handle.port}`,
			http_threads: 2,
			log_level: 'info',
			shutdown_timeout: 5,
			...opts.server,
		},
		limits: { ...opts.limits },
		journal: {
			dir: handle.journalDir,
			max_bytes: '64M',
			segment_bytes: '1M',
			...opts.journal,
		},
		amqp,
		websocket: {
			listen: `127.0.0.1:${handle.wsPort}`,
			...opts.websocket,
		},
	};
	fs.writeFileSync(handle.configPath, renderConfig({ sections,
	    apps: opts.apps || [TEST_APP], queues }));
}

function readText(file) {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

async function spawnDaemon(handle) {
	hookExit();
	const opts = handle.opts;
	const fd = fs.openSync(handle.logPath, 'a');
	const proc = spawn(SLUICED, ['-c', handle.configPath], {
		stdio: ['ignore', fd, fd],
		env: { ...process.env, ...opts.env },
	});
	fs.closeSync(fd);
	// A test that forgets to stop its daemon must still end: the exit
	// handler kills what is left.
	proc.unref();
	const entry = { proc };
	running.add(entry);
	handle.proc = proc;
	handle.pid = proc.pid;
	handle.exitCode = undefined;
	handle.exited = new Promise((resolve) => {
		proc.on('exit', (code, signal) => {
			running.delete(entry);
			handle.exitCode = code !== null ? code : signal;
			resolve(handle.exitCode);
		});
		proc.on('error', (err) => {
			running.delete(entry);
			handle.exitCode = err.message;
			resolve(err.message);
		});
	});
	const deadline = Date.now() + 15000;
	for (;;) {
		if (handle.exitCode !== undefined) {
			throw new Error(`sluiced exited (${handle.exitCode}) ` +
			    `before answering /healthz; log:\n${handle.log()}`);
		}
		try {
			const r = await request('GET', `${handle.baseUrl}/healthz`,
			    { timeout: 1000 });
			if (r.status === 200)
				break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) {
			proc.kill('SIGKILL');
			throw new Error(`sluiced did not answer /healthz in 15 s; ` +
			    `log:\n${handle.log()}`);
		}
		await sleep(25);
	}
	if (opts.waitReady) {
		await waitFor(async () => (await request('GET',
		    `${handle.baseUrl}/readyz`)).status === 200,
		    { timeout: 15000, what: 'sluiced /readyz 200' });
	}
	if (opts.waitWs) {
		await waitFor(() => canConnect(handle.wsPort), { timeout: 15000,
		    what: `sluiced listening on WebSocket port ${handle.wsPort}` });
	}
}

// Resolves true if a TCP connection to 127.0.0.1:port opens, else false.
function canConnect(port) {
	return new Promise((resolve) => {
		const sock = net.connect({ host: '127.0.0.1', port });
		sock.setTimeout(1000);
		sock.once('connect', () => {
			sock.destroy();
			resolve(true);
		});
		sock.once('timeout', () => {
			sock.destroy();
			resolve(false);
		});
		sock.once('error', () => resolve(false));
	});
}

// Waits for the daemon to exit, at most timeout ms; returns its exit code
// (or signal name), or 'timeout'. The timer keeps the event loop alive,
// which the unref'd child does not.
async function waitExit(handle, timeout) {
	let timer;
	const late = new Promise((resolve) => {
		timer = setTimeout(() => resolve('timeout'), timeout);
	});
	const code = await Promise.race([handle.exited, late]);
	clearTimeout(timer);
	return code;
}

async function stopDaemon(handle, { signal = 'SIGTERM', timeout = 30000 } =
    {}) {
	const proc = handle.proc;
	if (!proc)
		return handle.exitCode;
	if (handle.exitCode === undefined)
		proc.kill(signal);
	const code = await waitExit(handle, timeout);
	handle.proc = null;
	if (code === 'timeout') {
		proc.kill('SIGKILL');
		await waitExit(handle, 10000);
		throw new Error(`sluiced did not exit within ${timeout} ms of ` +
		    `${signal}; log:\n${handle.log()}`);
	}
	return code;
}

async function killDaemon(handle) {
	const proc = handle.proc;
	if (!proc)
		return handle.exitCode;
	if (handle.exitCode === undefined)
		proc.kill('SIGKILL');
	const code = await waitExit(handle, 10000);
	handle.proc = null;
	return code;
}

/*
 * One HTTP request on its own connection. body: a string, a Buffer, or any
 * other value (sent as JSON). Options: headers, timeout (ms), chunks (send
 * the body in that many writes, chunked: no Content-Length), agent (an
 * http.Agent, e.g. for keep-alive; default: a connection of its own).
 * Resolves {status, headers, text, json} (json undefined if not JSON).
 */
export function request(method, url, { headers = {}, body, timeout = 15000,
    chunks = 0, agent = false } = {}) {
	return new Promise((resolve, reject) => {
		let payload = body;
		if (payload !== undefined && typeof payload !== 'string' &&
		    !Buffer.isBuffer(payload))
			payload = JSON.stringify(payload);
		if (typeof payload === 'string')
			payload = Buffer.from(payload);
		const hdrs = { ...headers };
		if (payload !== undefined && !chunks &&
		    !Object.keys(hdrs).some((h) =>
		    h.toLowerCase() === 'content-length'))
			hdrs['Content-Length'] = payload.length;
		if (chunks)
			hdrs['Transfer-Encoding'] = 'chunked';
		let settled = false;
		const req = http.request(url, { method, headers: hdrs,
		    agent, timeout }, (res) => {
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('end', () => {
				settled = true;
				const text = Buffer.concat(parts).toString('utf8');
				let json;
				try {
					json = JSON.parse(text);
				} catch {
					json = undefined;
				}
				resolve({ status: res.statusCode, headers: res.headers,
				    text, json });
			});
			res.on('error', (e) => {
				if (!settled)
					reject(e);
			});
		});
		req.on('timeout', () => req.destroy(new Error(
		    `${method} ${url}: no answer in ${timeout} ms`)));
		req.on('error', (e) => {
			// A server may answer (413) and close before the whole
			// body was sent; the answer is what counts then.
			if (!settled)
				setTimeout(() => {
					if (!settled)
						reject(e);
				}, 200);
		});
		if (payload === undefined) {
			req.end();
		} else if (chunks) {
			const size = Math.ceil(payload.length / chunks);
			let off = 0;
			const writeNext = () => {
				while (off < payload.length) {
					const piece = payload.subarray(off, off + size);
					off += size;
					if (!req.write(piece)) {
						req.once('drain', writeNext);
						return;
					}
				}
				req.end();
			};
			writeNext();
		} else {
			req.end(payload);
		}
	});
}

/*
 * POST body to url (the /v1/events URL). Options: key (sent as
 * X-Sluice-Key unless null), headers, contentType (default
 * application/json), gzip (compress the body and say so), chunks, timeout,
 * agent (see request).
 */
export function post(url, body, { key, headers = {}, contentType =
    'application/json', gzip = false, chunks = 0, timeout, agent } = {}) {
	const hdrs = {};
	if (contentType !== null)
		hdrs['Content-Type'] = contentType;
	if (key)
		hdrs['X-Sluice-Key'] = key;
	let payload = body;
	if (payload !== undefined && typeof payload !== 'string' &&
	    !Buffer.isBuffer(payload))
		payload = JSON.stringify(payload);
	if (gzip) {
		payload = zlib.gzipSync(payload);
		hdrs['Content-Encoding'] = 'gzip';
	}
	return request('POST', url, { headers: { ...hdrs, ...headers },
	    body: payload, chunks, timeout, agent });
}

export function get(url, opts) {
	return request('GET', url, opts);
}

// Parses Prometheus text into a Map of 'name{labels}' (as written) -> number.
export function parseMetrics(text) {
	const m = new Map();
	for (const line of text.split('\n')) {
		if (line === '' || line.startsWith('#'))
			continue;
		const sp = line.lastIndexOf(' ');
		m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
	}
	return m;
}

// GET /metrics of a daemon, parsed.
export async function metrics(handle) {
	const r = await get(`${handle.baseUrl}/metrics`);
	if (r.status !== 200)
		throw new Error(`/metrics answered ${r.status}`);
	return parseMetrics(r.text);
}

// Runs tools/rabbitmq-node with args (for the tests that stop the broker).
export function rabbitmqNode(args) {
	const r = spawnSync(RABBITMQ_NODE, args, { encoding: 'utf8',
	    timeout: 120000 });
	if (r.status !== 0)
		throw new Error(`tools/rabbitmq-node ${args.join(' ')} failed ` +
		    `(${r.status ?? r.signal}): ${r.stderr}`);
	return r.stdout.trim();
}
