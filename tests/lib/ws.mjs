// tests/lib/ws.mjs: a raw Pusher-protocol client over the ws package, for
// the WebSocket tests of sluiced.
//
// WsClient keeps every message the server sends in an inbox; next() takes
// the first message that matches (whatever came before it stays for later
// calls), so a test reads replies and deliveries in any order it likes.
// Every wait is bounded. The close code and reason, and the HTTP status of a
// refused handshake, are kept. Clients not closed by a test are terminated
// when the process exits. signChannel() makes the auth of a private channel
// with the pusher server SDK, the way an app's backend does.

import { createRequire } from 'node:module';

import WebSocket from 'ws';

const require = createRequire(import.meta.url);
const PusherServer = require('pusher');

// The query every pusher-js 8 client sends (protocol 7).
export const PROTOCOL_QUERY = 'protocol=7&client=js&version=8.4.0';

const open = new Set();		// clients not yet closed
let exitHooked = false;

function hookExit() {
	if (exitHooked)
		return;
	exitHooked = true;
	process.on('exit', () => {
		for (const c of open)
			c.ws.terminate();
	});
}

// ws://.../app/{key}?protocol=7... of the daemon handle (see startSluiced).
// Options: key (default the handle's), path (instead of /app/{key}), query
// (instead of PROTOCOL_QUERY; '' for none), format (adds format=FORMAT to
// the query: 'envelope' for events as whole envelopes).
export function appUrl(handle, { key = handle.key, path, query =
    PROTOCOL_QUERY, format } = {}) {
	const p = path !== undefined ? path : `/app/${key}`;
	const q = [query, format !== undefined ? `format=${format}` : ''].filter(
	    Boolean).join('&');
	return `${handle.wsUrl}${p}${q ? `?${q}` : ''}`;
}

// The message as tests look at it: event, channel, data as sent, payload
// (data parsed when it is a JSON string, else data itself) and raw text.
function toMessage(raw) {
	let m;
	try {
		m = JSON.parse(raw);
	} catch {
		return { event: undefined, raw, invalid: true };
	}
	let payload = m && m.data;
	if (typeof payload === 'string') {
		try {
			payload = JSON.parse(payload);
		} catch {
			// a string that is not JSON stays as it is
		}
	}
	return { ...m, payload, raw };
}

// A predicate on messages from what next() takes: an event name, a
// function, or {event, channel, ...} whose fields must all be equal.
function matcher(what) {
	if (typeof what === 'function')
		return what;
	if (typeof what === 'string')
		return (m) => m.event === what;
	return (m) => Object.entries(what).every(([k, v]) => m[k] === v);
}

function describe(what) {
	if (typeof what === 'function')
		return what.name || 'a matching message';
	return JSON.stringify(what);
}

export class WsClient {
	/*
	 * Opens a WebSocket to url. Options: origin (an Origin header),
	 * headers, handshakeTimeout (ms). The client is usable at once; wait
	 * for opened (a promise of true, or of false when the handshake was
	 * refused: httpStatus says why) or use connect().
	 */
	constructor(url, { origin, headers = {}, handshakeTimeout = 15000 } =
	    {}) {
		hookExit();
		this.url = url;
		this.inbox = [];
		this.waiters = [];
		this.received = 0;
		this.httpStatus = null;
		this.closeCode = null;
		this.closeReason = null;
		this.error = null;
		this.ws = new WebSocket(url, { origin, headers, handshakeTimeout,
		    maxPayload: 256 * 1024 * 1024 });
		open.add(this);
		this.opened = new Promise((resolve) => {
			this.ws.once('open', () => resolve(true));
			this.ws.once('close', () => resolve(false));
		});
		this.closed = new Promise((resolve) => {
			this.ws.once('close', (code, reason) => {
				open.delete(this);
				this.closeCode = code;
				this.closeReason = reason.toString('utf8');
				resolve({ code, reason: this.closeReason });
				for (const w of this.waiters.splice(0))
					w.fail(this.closedError(w.what));
			});
		});
		this.ws.on('unexpected-response', (req, res) => {
			this.httpStatus = res.statusCode;
			res.resume();
			this.ws.terminate();
		});
		this.ws.on('error', (e) => {
			this.error = e;
		});
		this.ws.on('message', (data, isBinary) => {
			this.received++;
			const m = isBinary ? { event: undefined, binary: true,
			    raw: data } : toMessage(data.toString('utf8'));
			const i = this.waiters.findIndex((w) => w.match(m));
			if (i >= 0) {
				const [w] = this.waiters.splice(i, 1);
				w.done(m);
			} else {
				this.inbox.push(m);
			}
		});
	}

	closedError(what) {
		const why = this.httpStatus !== null ?
		    `handshake refused with HTTP ${this.httpStatus}` :
		    `closed with ${this.closeCode} ${this.closeReason}`;
		return new Error(`waiting for ${describe(what)}: the connection ` +
		    `was ${why}`);
	}

	/*
	 * The first message (in the inbox or still to come) that matches what
	 * (see matcher), taken out of the inbox. Rejects after timeout ms, or
	 * when the connection closes first.
	 */
	next(what, { timeout = 15000 } = {}) {
		const match = matcher(what);
		const i = this.inbox.findIndex(match);
		if (i >= 0)
			return Promise.resolve(this.inbox.splice(i, 1)[0]);
		if (this.closeCode !== null)
			return Promise.reject(this.closedError(what));
		return new Promise((resolve, reject) => {
			const w = { what, match };
			const timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				const seen = this.inbox.slice(-5).map((m) =>
				    String(m.raw).slice(0, 160)).join('\n  ');
				reject(new Error(`no ${describe(what)} in ${timeout} ` +
				    `ms; last messages kept:\n  ${seen || '(none)'}`));
			}, timeout);
			w.done = (m) => {
				clearTimeout(timer);
				resolve(m);
			};
			w.fail = (e) => {
				clearTimeout(timer);
				reject(e);
			};
			this.waiters.push(w);
		});
	}

	// Takes n messages that match what, in order of arrival; rejects
	// (saying how many came) after timeout ms in all.
	async take(what, n, { timeout = 30000 } = {}) {
		const deadline = Date.now() + timeout;
		const out = [];
		while (out.length < n) {
			const left = deadline - Date.now();
			try {
				out.push(await this.next(what, { timeout:
				    Math.max(1, left) }));
			} catch (e) {
				throw new Error(`${out.length} of ${n} messages: ` +
				    e.message);
			}
		}
		return out;
	}

	// The messages in the inbox that match what, taken out of it.
	drainInbox(what = () => true) {
		const match = matcher(what);
		const out = this.inbox.filter(match);
		this.inbox = this.inbox.filter((m) => !match(m));
		return out;
	}

	// Sends obj as JSON text (a string is sent as it is).
	send(obj, opts = {}) {
		const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
		return new Promise((resolve, reject) => {
			this.ws.send(text, opts, (e) => e ? reject(e) : resolve());
		});
	}

	// Sends sluice:options with data (an object) and resolves the reply:
	// sluice:options_succeeded or pusher:error.
	async options(data, { timeout = 15000 } = {}) {
		await this.send({ event: 'sluice:options', data });
		return this.next((m) => m.event === 'sluice:options_succeeded' ||
		    m.event === 'pusher:error', { timeout });
	}

	// Sends a pusher:ping and waits for the pusher:pong.
	async ping({ timeout = 15000 } = {}) {
		await this.send({ event: 'pusher:ping', data: {} });
		return this.next('pusher:pong', { timeout });
	}

	/*
	 * Subscribes to channel (with auth when given) and resolves the reply:
	 * pusher_internal:subscription_succeeded or pusher:subscription_error
	 * for that channel.
	 */
	async subscribe(channel, { auth, timeout = 15000 } = {}) {
		const data = { channel };
		if (auth !== undefined)
			data.auth = auth;
		await this.send({ event: 'pusher:subscribe', data });
		return this.next((m) => m.channel === channel &&
		    (m.event === 'pusher_internal:subscription_succeeded' ||
		    m.event === 'pusher:subscription_error'), { timeout });
	}

	// Subscribes and throws unless the subscription succeeded.
	async mustSubscribe(channel, opts) {
		const r = await this.subscribe(channel, opts);
		if (r.event !== 'pusher_internal:subscription_succeeded')
			throw new Error(`subscribing to ${channel}: ${r.raw}`);
		return r;
	}

	async unsubscribe(channel) {
		await this.send({ event: 'pusher:unsubscribe', data: { channel } });
	}

	// Sends sluice:publish with ref and events (no wait for the reply).
	sendPublish(ref, events) {
		return this.send({ event: 'sluice:publish', data: { ref, events } });
	}

	// The sluice:ack or sluice:nack of ref (payload parsed).
	reply(ref, { timeout = 30000 } = {}) {
		return this.next((m) => (m.event === 'sluice:ack' ||
		    m.event === 'sluice:nack') && m.payload &&
		    m.payload.ref === ref, { timeout });
	}

	// Publishes events with ref and resolves the ack or nack.
	async publish(ref, events, opts) {
		await this.sendPublish(ref, events);
		return this.reply(ref, opts);
	}

	// Resolves {code, reason} once closed; rejects after timeout ms.
	waitClose({ timeout = 15000 } = {}) {
		let timer;
		const late = new Promise((resolve, reject) => {
			timer = setTimeout(() => reject(new Error(`not closed in ` +
			    `${timeout} ms (${this.url})`)), timeout);
		});
		return Promise.race([this.closed, late]).finally(() =>
		    clearTimeout(timer));
	}

	get isOpen() {
		return this.ws.readyState === WebSocket.OPEN;
	}

	// Closes politely (code 1000) and waits for the close, at most
	// timeout ms, then terminates.
	async close({ timeout = 5000 } = {}) {
		if (this.closeCode !== null)
			return;
		if (this.ws.readyState === WebSocket.CONNECTING ||
		    this.ws.readyState === WebSocket.OPEN)
			this.ws.close(1000);
		try {
			await this.waitClose({ timeout });
		} catch {
			this.ws.terminate();
			await this.closed;
		}
	}

	// Drops the TCP connection at once.
	terminate() {
		this.ws.terminate();
		return this.closed;
	}

	// Stops reading from the socket: the kernel buffers fill, then the
	// server's writes back up. resume() reads again.
	pause() {
		this.ws._socket.pause();
	}

	resume() {
		this.ws._socket.resume();
	}
}

/*
 * Opens a connection to the daemon handle (or a URL) and waits for
 * pusher:connection_established; the client gets socketId and
 * activityTimeout. Options: as appUrl and WsClient, plus timeout (ms).
 * Throws if the handshake is refused or the connection is closed first.
 */
export async function connect(target, opts = {}) {
	const url = typeof target === 'string' ? target : appUrl(target, opts);
	const c = new WsClient(url, opts);
	let m;
	try {
		m = await c.next('pusher:connection_established',
		    { timeout: opts.timeout || 15000 });
	} catch (e) {
		c.ws.terminate();
		throw e;
	}
	c.established = m;
	c.socketId = m.payload && m.payload.socket_id;
	c.activityTimeout = m.payload && m.payload.activity_timeout;
	return c;
}

/*
 * Opens a connection that the server is expected to refuse with a Pusher
 * error: resolves {error, close, httpStatus}: the pusher:error message
 * (null if none came before the close), the {code, reason} of the close,
 * and the HTTP status of a refused handshake (else null).
 */
export async function connectRefused(target, opts = {}) {
	const url = typeof target === 'string' ? target : appUrl(target, opts);
	const c = new WsClient(url, opts);
	const timeout = opts.timeout || 15000;
	const close = await c.waitClose({ timeout }).catch((e) => {
		c.ws.terminate();
		throw e;
	});
	const [error] = c.drainInbox('pusher:error');
	return { error: error || null, close, httpStatus: c.httpStatus,
	    client: c };
}

const signers = new Map();

// The pusher server SDK instance of an app ({id, key, secret}).
export function sdkFor(app) {
	const k = `${app.key}\n${app.secret}`;
	if (!signers.has(k))
		signers.set(k, new PusherServer({ appId: app.id || '1',
		    key: app.key, secret: app.secret, cluster: 'x' }));
	return signers.get(k);
}

// The auth of socketId for channel, made by the SDK's authorizeChannel.
export function signChannel(app, socketId, channel) {
	return sdkFor(app).authorizeChannel(socketId, channel).auth;
}

// Closes every client given (nulls are skipped), whatever state it is in.
export async function closeAll(clients) {
	await Promise.all(clients.filter(Boolean).map((c) => c.close()));
}
