// test/fakes.mjs: the stand-ins the unit tests give the client in place of
// the browser's: a clock whose timers run only when a test moves it on, a
// Storage, a WebSocket server with its socket class, Web Locks with pages
// that can die, a window (document, navigator.sendBeacon, pagehide) and
// fetch. Each records what the client did with it.

// Timers and time that move only with tick().
export class FakeClock {
	constructor(start = 1700000000000) {
		this.t = start;
		this.timers = new Map();
		this.seq = 0;
		this.now = () => this.t;
		this.setTimeout = (fn, ms = 0) => {
			const id = ++this.seq;
			this.timers.set(id, { id, at: this.t + Math.max(0, +ms || 0),
			    fn });
			return id;
		};
		this.clearTimeout = (id) => {
			this.timers.delete(id);
		};
	}

	// Lets every pending promise job run.
	async settle() {
		for (let i = 0; i < 3; i++)
			await new Promise((resolve) => setImmediate(resolve));
	}

	// Moves time on by ms, running each timer due on the way at its time
	// (and the promise jobs after each).
	async tick(ms = 0) {
		const end = this.t + ms;
		for (let runs = 0; ; runs++) {
			if (runs > 100000)
				throw new Error('FakeClock: timers never stop');
			await this.settle();
			let next = null;
			for (const x of this.timers.values()) {
				if (x.at <= end && (!next || x.at < next.at))
					next = x;
			}
			if (!next)
				break;
			this.timers.delete(next.id);
			this.t = Math.max(this.t, next.at);
			next.fn();
		}
		this.t = end;
		await this.settle();
	}

	// The ms until the next timer, or Infinity.
	nextIn() {
		let at = Infinity;
		for (const x of this.timers.values())
			at = Math.min(at, x.at);
		return at - this.t;
	}
}

// A Storage (the localStorage interface) in memory; quota in characters,
// as browsers count it, when given.
export class MemStorage {
	constructor(quota = Infinity) {
		this.map = new Map();
		this.quota = quota;
		this.writes = 0;
	}

	get length() {
		return this.map.size;
	}

	key(i) {
		return [...this.map.keys()][i] ?? null;
	}

	getItem(k) {
		return this.map.has(k) ? this.map.get(k) : null;
	}

	setItem(k, v) {
		v = String(v);
		let used = k.length + v.length;
		for (const [k2, v2] of this.map) {
			if (k2 !== k)
				used += k2.length + v2.length;
		}
		if (used > this.quota) {
			const e = new Error('The quota has been exceeded.');
			e.name = 'QuotaExceededError';
			throw e;
		}
		this.writes++;
		this.map.set(k, v);
	}

	removeItem(k) {
		this.map.delete(k);
	}

	clear() {
		this.map.clear();
	}
}

/*
 * A WebSocket server and the class the client connects with (.WebSocket).
 * mode: 'accept' (default), 'refuse' (the connection fails) or 'hang'
 * (nothing happens). Publishes are recorded in .publishes ({sock, ref,
 * events}) and acknowledged whole unless autoAck is false or onPublish is
 * set (then it answers). Each socket takes events in a format, as sluiced
 * has it: 'pusher' (the data as published), or 'envelope' when its URL or
 * a sluice:options message asks. Every message reaches the other side
 * through the clock, after latency ms.
 *
 * Presence channels and client events as the protocol has them: a
 * presence- subscribe needs auth equal to sign(socketId, channel,
 * channel_data) and channel_data with a user_id; members are users (a user
 * with two sockets is one member), announced to the other subscribers by
 * member_added and member_removed; client-* events from a subscriber of a
 * private- or presence- channel go to its other subscribers, with the
 * sender's user_id on presence channels, in the format of every socket
 * (they have no envelope). .members(channel) is the server's member list.
 */
export class FakeServer {
	constructor(clock, { latency = 0 } = {}) {
		const srv = this;
		this.clock = clock;
		this.latency = latency;
		this.mode = 'accept';
		this.autoAck = true;
		this.onPublish = null;
		this.sockets = [];
		this.publishes = [];
		this.nextSocket = 1;
		this.presence = new Map();	// channel -> user id -> member
		this.WebSocket = class extends FakeSocket {
			constructor(url) {
				super(srv, url);
			}
		};
	}

	later(fn) {
		this.clock.setTimeout(fn, this.latency);
	}

	// The newest socket.
	get last() {
		return this.sockets[this.sockets.length - 1];
	}

	// Sockets open now.
	get open() {
		return this.sockets.filter((s) => s.readyState === 1);
	}

	connect(sock) {
		if (this.mode === 'accept') {
			this.later(() => {
				if (sock.readyState !== 0)
					return;
				sock.readyState = 1;
				sock.socketId = `${this.nextSocket++}.${Math.floor(
				    Math.random() * 1e6)}`;
				if (sock.onopen)
					sock.onopen({});
				sock.deliver({ event: 'pusher:connection_established',
				    data: JSON.stringify({ socket_id: sock.socketId,
				    activity_timeout: 120 }) });
			});
		} else if (this.mode === 'refuse') {
			this.later(() => sock.serverClose(1006));
		}
	}

	// The auth the server wants of a socket for a presence channel.
	static sign(socketId, channel, channelData) {
		return `web-key-0001:${socketId}:${channel}:${channelData}`;
	}

	// A message from the client.
	receive(sock, m) {
		const d = m.data;
		if (m.event === 'pusher:ping') {
			sock.deliver({ event: 'pusher:pong', data: {} });
		} else if (m.event === 'pusher:subscribe') {
			if (/^presence-/.test(d.channel))
				this.join(sock, d);
			else
				this.subscribed(sock, d.channel, '{}');
		} else if (m.event === 'pusher:unsubscribe') {
			this.unsubscribe(sock, d.channel);
		} else if (m.event === 'sluice:options') {
			sock.format = d.format || sock.format;
			sock.deliver({ event: 'sluice:options_succeeded',
			    data: JSON.stringify({ format: sock.format }) });
		} else if (m.event === 'sluice:publish') {
			const p = { sock, ref: d.ref, events: d.events };
			this.publishes.push(p);
			if (this.onPublish)
				this.onPublish(p);
			else if (this.autoAck)
				this.ack(p);
		} else if (/^client-/.test(m.event)) {
			this.relay(sock, m);
		}
	}

	subscribed(sock, channel, data) {
		sock.subs.add(channel);
		sock.deliver({ event: 'pusher_internal:subscription_succeeded',
		    channel, data });
	}

	// Sends m to every socket subscribed to channel but sock.
	others(sock, channel, m) {
		for (const other of this.sockets) {
			if (other !== sock && other.readyState === 1 &&
			    other.subs.has(channel))
				other.deliver(m);
		}
	}

	// The member list of a presence channel: [{id, info}] by id.
	members(channel) {
		return [...(this.presence.get(channel) || new Map()).values()]
		    .map((m) => ({ id: m.id, info: m.info }))
		    .sort((a, b) => a.id.localeCompare(b.id));
	}

	join(sock, d) {
		const fail = (type, status) => sock.deliver({ event:
		    'pusher:subscription_error', channel: d.channel,
		    data: { type, error: `${type} for ${d.channel}`, status } });
		let member;
		if (d.auth !== FakeServer.sign(sock.socketId, d.channel,
		    d.channel_data))
			return fail('AuthError', 401);
		try {
			member = JSON.parse(d.channel_data);
		} catch {
			return fail('InvalidChannelData', 400);
		}
		if (member.user_id == null)
			return fail('InvalidChannelData', 400);
		const id = String(member.user_id);
		let table = this.presence.get(d.channel);
		if (!table)
			this.presence.set(d.channel, table = new Map());
		let entry = table.get(id);
		if (!entry) {
			table.set(id, entry = { id, info: member.user_info,
			    sockets: new Set() });
			this.others(sock, d.channel, { event:
			    'pusher_internal:member_added', channel: d.channel,
			    data: JSON.stringify({ user_id: id,
			    user_info: member.user_info }) });
		}
		entry.sockets.add(sock);
		sock.users.set(d.channel, id);
		const hash = {};
		for (const m of table.values())
			hash[m.id] = m.info;
		this.subscribed(sock, d.channel, JSON.stringify({ presence:
		    { ids: [...table.keys()], hash, count: table.size } }));
	}

	unsubscribe(sock, channel) {
		const table = this.presence.get(channel);
		const id = sock.users.get(channel);
		sock.subs.delete(channel);
		sock.users.delete(channel);
		const entry = table && table.get(id);
		if (!entry || !entry.sockets.delete(sock) || entry.sockets.size)
			return;
		table.delete(id);
		this.others(sock, channel, { event: 'pusher_internal:member_removed',
		    channel, data: JSON.stringify({ user_id: id }) });
	}

	// A socket closed: it leaves every channel.
	gone(sock) {
		for (const channel of [...sock.subs])
			this.unsubscribe(sock, channel);
	}

	relay(sock, m) {
		const error = (message) => sock.deliver({ event: 'pusher:error',
		    data: { code: 4009, message } });
		if (!/^(private|presence)-/.test(m.channel))
			return error(`client event on ${m.channel}`);
		if (!sock.subs.has(m.channel))
			return error(`not subscribed to ${m.channel}`);
		const out = { event: m.event, channel: m.channel, data: typeof
		    m.data === 'string' ? m.data : JSON.stringify(m.data) };
		if (sock.users.has(m.channel))
			out.user_id = sock.users.get(m.channel);
		this.others(sock, m.channel, out);
	}

	// Acknowledges publish p (all its events, or ids).
	ack(p, ids = p.events.map((e) => e.id)) {
		p.sock.deliver({ event: 'sluice:ack', data: JSON.stringify({
		    ref: p.ref, ids }) });
	}

	nack(p, ids, errors, more = {}) {
		p.sock.deliver({ event: 'sluice:nack', data: JSON.stringify({
		    ref: p.ref, ids, errors, ...more }) });
	}

	// Every event id published, in order (a resent one as often as sent).
	get sentIds() {
		return this.publishes.flatMap((p) => p.events.map((e) => e.id));
	}
}

class FakeSocket {
	constructor(srv, url) {
		this.srv = srv;
		this.url = url;
		this.readyState = 0;
		this.sent = [];
		this.subs = new Set();
		this.users = new Map();	// presence channel -> user id
		this.closeCode = null;
		this.deaf = false;	// true: the server stops answering
		this.format = /[?&]format=envelope(&|$)/.test(url) ? 'envelope' :
		    'pusher';
		srv.sockets.push(this);
		srv.connect(this);
	}

	send(text) {
		if (this.readyState !== 1)
			throw new Error('send on a socket that is not open');
		const m = JSON.parse(text);
		this.sent.push(m);
		this.srv.receive(this, m);
	}

	close(code) {
		if (this.readyState >= 2)
			return;
		this.readyState = 2;
		this.closeCode = code ?? 1005;
		this.srv.gone(this);
		this.srv.later(() => {
			this.readyState = 3;
			if (this.onclose)
				this.onclose({ code: code ?? 1005 });
		});
	}

	// Server side: sends m (an object) to the client.
	deliver(m) {
		if (this.deaf)
			return;
		this.srv.later(() => {
			if (this.readyState === 1 && this.onmessage)
				this.onmessage({ data: JSON.stringify(m) });
		});
	}

	// Server side: sends the event of envelope (its event, channel and
	// data) in the socket's format.
	deliverEvent(envelope) {
		const { event, channel, data } = envelope;
		if (this.format === 'envelope') {
			this.deliver({ event, channel, data: JSON.stringify(envelope),
			    envelope: true });
		} else {
			this.deliver({ event, channel, data: typeof data === 'string' ?
			    data : JSON.stringify(data ?? null) });
		}
	}

	// Server side: closes with code (at once: what a dead peer looks like).
	serverClose(code) {
		if (this.readyState === 3)
			return;
		this.readyState = 3;
		this.srv.gone(this);
		if (this.onerror && code === 1006)
			this.onerror({});
		if (this.onclose)
			this.onclose({ code });
	}

	// Messages the client sent of event name.
	sentOf(name) {
		return this.sent.filter((m) => m.event === name);
	}
}

/*
 * Web Locks shared by pages: locks.page() is one page's navigator.locks;
 * page.die() lets go of every lock the page held, as a browser does when
 * the page goes away.
 */
export class FakeLocks {
	constructor() {
		this.held = new Map();	// name -> page
		this.waiting = [];	// [name, page, grant]
	}

	page() {
		const locks = this;
		const page = {
			held: new Set(),
			dead: false,
			request(name, opts, cb) {
				if (typeof opts === 'function') {
					cb = opts;
					opts = {};
				}
				return locks.request(page, name, opts, cb);
			},
			die() {
				page.dead = true;
				for (const name of [...page.held])
					locks.release(page, name);
			},
		};
		return page;
	}

	request(page, name, opts, cb) {
		return new Promise((resolve, reject) => {
			const grant = () => {
				this.held.set(name, page);
				page.held.add(name);
				Promise.resolve().then(() => cb({ name, mode:
				    'exclusive' })).then((r) => {
					this.release(page, name);
					resolve(r);
				}, (e) => {
					this.release(page, name);
					reject(e);
				});
			};
			if (!this.held.has(name))
				grant();
			else if (opts.ifAvailable)
				Promise.resolve().then(() => cb(null)).then(resolve,
				    reject);
			else
				this.waiting.push([name, page, grant]);
		});
	}

	release(page, name) {
		if (this.held.get(name) !== page)
			return;
		this.held.delete(name);
		page.held.delete(name);
		const i = this.waiting.findIndex(([n, p]) => n === name && !p.dead);
		if (i >= 0)
			this.waiting.splice(i, 1)[0][2]();
	}
}

/*
 * A window: an EventTarget with document (visibilityState, title,
 * referrer), location and navigator (onLine, locks, sendBeacon recording
 * into .beacons; beacon(url, body) says whether the browser takes it).
 * hide(), show() and pagehide(persisted) fire what a browser fires.
 */
export function fakeWindow({ locks, online = true, beacon = () => true } =
    {}) {
	const w = new EventTarget();
	w.document = new EventTarget();
	Object.assign(w.document, { visibilityState: 'visible',
	    title: 'Shop', referrer: 'https://search.example/?q=shop' });
	w.location = { href: 'https://app.example/shop?page=2',
	    pathname: '/shop' };
	w.beacons = [];
	w.navigator = {
		onLine: online,
		locks,
		sendBeacon(url, body) {
			if (typeof body !== 'string')
				throw new Error('beacon body must be a string here');
			if (!beacon(url, body))
				return false;
			w.beacons.push({ url, body, events: JSON.parse(body) });
			return true;
		},
	};
	w.hide = () => {
		w.document.visibilityState = 'hidden';
		w.document.dispatchEvent(new Event('visibilitychange'));
	};
	w.show = () => {
		w.document.visibilityState = 'visible';
		w.document.dispatchEvent(new Event('visibilitychange'));
	};
	w.pagehide = (persisted = false) => {
		const e = new Event('pagehide');
		e.persisted = persisted;
		w.dispatchEvent(e);
	};
	return w;
}

/*
 * fetch for the client: handler(req) with req {url, init, events} returns
 * {status, body, headers}, an Error (thrown: no answer) or a promise of
 * either. Default: 202 with every id. Calls are in .calls.
 */
export function fakeFetch(handler = accept) {
	const f = async (url, init) => {
		const req = { url, init, events: JSON.parse(init.body) };
		f.calls.push(req);
		const r = await handler(req);
		if (r instanceof Error)
			throw r;
		return {
			status: r.status,
			ok: r.status >= 200 && r.status < 300,
			headers: { get: (h) => (r.headers || {})[h] ?? null },
			json: async () => {
				if (r.body === undefined)
					throw new SyntaxError('no JSON');
				return r.body;
			},
		};
	};
	f.calls = [];
	return f;
}

// The answer sluiced gives to a request whose events all were accepted.
export function accept(req) {
	return { status: 202, body: { accepted: req.events.length,
	    ids: req.events.map((e) => e.id) } };
}
