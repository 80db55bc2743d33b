// sluice.js: the client, its public API. track() queues an event with a
// UUIDv7 id; the queue is persisted (store.js) and bounded; pump() cuts it
// into batches by count, bytes and time and sends each over the WebSocket
// (link.js) as sluice:publish, or with fetch (http.js) while the WebSocket
// cannot connect. A batch waits for its answer: acknowledged events leave
// the queue and their promises resolve; events the server rejects are
// dropped and reported; the rest (no answer in time, a lost connection, a
// retry_after) are sent again, with the same ids and a new sent_at. When
// the page is hidden or goes away, the queue is saved and beaconed.
// Single-threaded: every method runs on the page's event loop.

import { beacon, post } from './http.js';
import { backoff, Link } from './link.js';
import { Store } from './store.js';
import { Emitter, error, utf8 } from './util.js';
import { uuid7 } from './uuid7.js';

const DEFAULTS = {
	batchSize: 50,		// events in one batch at most
	batchBytes: 60000,	// bytes of one batch at most (64K is the server's)
	flushInterval: 1000,	// ms a partial batch waits for more
	maxQueue: 1000,		// events queued at most: the oldest are dropped
	maxQueueBytes: 1 << 20,	// bytes (of JSON) queued at most
	maxInflight: 4,		// batches waiting for their answer at once
	ackTimeout: 10000,	// ms to wait for an answer before sending again
	connectTimeout: 5000,	// ms for a WebSocket to be established
	wsFailures: 2,		// failed attempts in a row before HTTP is used
	reconnectMin: 500,	// ms, the first reconnect backoff
	reconnectMax: 30000,	// ms, the longest
	activityTimeout: 120000, // ms of silence before a ping
	pongTimeout: 30000,	// ms for the answer to that ping
	retryAfter: 5,		// s to wait when the server said to but not how long
	scanInterval: 10000,	// ms between looks for orphaned queues
	leaseTtl: 30000,	// ms a lease lasts (without Web Locks)
	claimDelay: 300,	// ms a claim on an orphan must stand (same)
	beaconBytes: 60000,	// bytes of one beacon at most
	closeTimeout: 3000,	// ms close() waits for the queue to be acknowledged
};

export class Sluice extends Emitter {
	// A client of the app key (see index.d.ts for the options); it
	// connects and adopts what earlier pages left queued.
	constructor(opts) {
		super();
		const o = this.o = { ...DEFAULTS, ...opts };
		const w = this.w = o.window || globalThis;
		const nav = this.nav = w.navigator || {};
		const WS = o.WebSocket || globalThis.WebSocket;

		this.now = o.now || Date.now;
		this.st = o.setTimeout || ((fn, ms) => setTimeout(fn, ms));
		this.ct = o.clearTimeout || ((h) => clearTimeout(h));
		this.random = o.random || Math.random;
		this.fetch = o.fetch || (globalThis.fetch &&
		    ((u, init) => fetch(u, init)));
		this.sendBeacon = o.sendBeacon || (nav.sendBeacon &&
		    ((u, body) => nav.sendBeacon(u, body)));
		this.id = uuid7(this.now()).slice(-12);	// this instance's
		this.q = [];			// {e: event, n: bytes}, oldest first
		this.busy = new Set();		// ids in a batch in flight
		this.fly = new Map();		// ref -> batch in flight
		this.waits = new Map();		// id -> [resolve, reject, promise]
		this.beaconed = new Set();	// ids handed to sendBeacon
		this.t = {};			// timers by name
		this.max = o.batchSize;
		this.seq = 0;
		this.due = false;		// partial batches may go
		this.hold = 0;			// send nothing before (ms)
		this.hhold = 0;			// post nothing before (ms)
		this.hn = 0;			// failed posts in a row
		this.keepalive = 0;		// bytes posted with keepalive
		this.acked = 0;
		this.dropped = 0;
		this.closed = false;
		this.state = 'disconnected';
		this.store = new Store(this);
		this.user = this.store.get('u');
		this.store.start();
		this.link = o.wsUrl && WS ? new Link(this, WS) : null;
		if (this.link)
			this.link.open();
		const doc = w.document;
		const hide = (ev) => {
			if (ev.type !== 'pagehide' && doc.visibilityState !== 'hidden')
				return;
			this.store.save(true);
			beacon(this);
			if (ev.type === 'pagehide' && !ev.persisted)
				this.stop();
		};
		if (w.addEventListener) {
			w.addEventListener('pagehide', hide);
			if (doc)
				doc.addEventListener('visibilitychange', hide);
			this.unlisten = () => {
				w.removeEventListener('pagehide', hide);
				if (doc)
					doc.removeEventListener('visibilitychange', hide);
			};
		}
	}

	get queued() {
		return this.q.length;
	}

	static uuid7(ms) {
		return uuid7(ms);
	}

	// Runs fn after ms under name, replacing the timer of that name; no
	// ms (or a negative one) only cancels it.
	timer(name, ms, fn) {
		const t = this.t;

		if (t[name] !== undefined)
			this.ct(t[name]);
		delete t[name];
		if (ms >= 0) {
			t[name] = this.st(() => {
				delete t[name];
				fn();
			}, ms);
		}
	}

	setState(state) {
		const prev = this.state;

		if (state !== prev) {
			this.state = state;
			this.emit('state', state, prev);
		}
	}

	/*
	 * Queues an event; the promise resolves with its id once the gateway
	 * acknowledged it, and rejects (an Error with the code) when it is
	 * dropped: rejected by the server, pushed out of a full queue, or too
	 * large to send.
	 */
	track(event, data, opts = {}) {
		if (this.closed)
			return Promise.reject(error('closed', 'the client is closed'));
		const now = this.now();
		const e = { id: opts.id || uuid7(now), event };
		const channel = opts.channel || this.o.channel;
		const u = this.user;
		if (channel)
			e.channel = channel;
		if (u && (data == null || (typeof data === 'object' &&
		    !Array.isArray(data))))
			data = { ...data, user: u };
		if (data !== undefined)
			e.data = data;
		e.timestamp = now;
		const p = this.wait(e.id);
		this.add([e]);
		this.pump();
		return p;
	}

	// A page_view of the page: url, path, referrer and title (and data).
	page(data, opts) {
		const l = this.w.location || {};
		const d = this.w.document || {};

		return this.track('page_view', { url: l.href, path: l.pathname,
		    referrer: d.referrer, title: d.title, ...data }, opts);
	}

	// Attaches {id, traits} as data.user to the events tracked from now
	// on (when their data is an object or absent), here and in later page
	// loads; identify(null) forgets it.
	identify(id, traits) {
		this.user = id == null ? null : traits ? { id, traits } : { id };
		this.store.set('u', this.user);
	}

	// Calls handler(envelope, eventName) for every event of channel;
	// returns the function that stops it.
	subscribe(channel, handler) {
		return this.link ? this.link.subscribe(channel, handler) :
		    () => {};
	}

	// Sends what is queued now; resolves once all of it was acknowledged
	// or dropped.
	flush() {
		const all = this.q.map((x) => this.wait(x.e.id).catch(() => {}));

		this.pump(true);
		return Promise.all(all).then(() => {});
	}

	/*
	 * Flushes (waiting closeTimeout ms at most), then stops. What is
	 * still queued stays stored for a later instance; its promises reject
	 * with code "closed".
	 */
	close() {
		this.closing ||= (async () => {
			let h;
			await Promise.race([this.flush(), new Promise((resolve) => {
				h = this.st(resolve, this.o.closeTimeout);
			})]);
			this.ct(h);
			this.stop();
		})();
		return this.closing;
	}

	// Stops at once (close(), or the page goes away): timers, WebSocket,
	// listeners; lets go of the stored queue for another instance.
	stop() {
		if (this.closed)
			return;
		this.closed = true;
		for (const name of Object.keys(this.t))
			this.timer(name);
		for (const b of this.fly.values())
			this.done(b);
		if (this.link)
			this.link.close();
		this.store.release();
		if (this.unlisten)
			this.unlisten();
		const err = error('closed', 'closed before it was acknowledged; ' +
		    'it stays queued');
		for (const id of [...this.waits.keys()])
			this.settle(id, err);
		this.setState('closed');
	}

	// The promise of event id (made on first use).
	wait(id) {
		let w = this.waits.get(id);

		if (!w) {
			w = [];
			w[2] = new Promise((resolve, reject) => {
				w[0] = resolve;
				w[1] = reject;
			});
			w[2].catch(() => {});	// no unhandled rejection
			this.waits.set(id, w);
		}
		return w[2];
	}

	// Resolves (or, with err, rejects) the promise of id, if any.
	settle(id, err) {
		const w = this.waits.get(id);

		if (w) {
			this.waits.delete(id);
			if (err)
				w[1](err);
			else
				w[0](id);
		}
	}

	// Appends events to the queue (at the front if older; an id already
	// queued is left out), drops what does not fit, saves.
	add(events, older) {
		const have = new Set(this.q.map((x) => x.e.id));
		const xs = [];
		const big = [];

		for (const e of events) {
			if (!e || !e.id || have.has(e.id))
				continue;
			const n = utf8(JSON.stringify(e));
			(n + 40 > this.o.batchBytes ? big : xs).push({ e, n });
		}
		this.q = older ? xs.concat(this.q) : this.q.concat(xs);
		if (big.length)
			this.drop(big.map((x) => x.e), error('event_too_large',
			    `an event is over ${this.o.batchBytes} bytes`));
		let bytes = 0;
		let k = 0;
		for (const x of this.q)
			bytes += x.n;
		while (k < this.q.length && (this.q.length - k > this.o.maxQueue ||
		    bytes > this.o.maxQueueBytes))
			bytes -= this.q[k++].n;
		if (k)
			this.drop(this.q.slice(0, k).map((x) => x.e),
			    error('queue_full', `the queue is full: dropped the ` +
			    `${k} oldest events`), true);
		this.store.save();
	}

	// Drops events for err: out of the queue, promises rejected, counted,
	// reported by 'drop' (and by 'error' unless quiet).
	drop(events, err, quiet) {
		const ids = new Set(events.map((e) => e.id));

		this.q = this.q.filter((x) => !ids.has(x.e.id));
		for (const id of ids)
			this.settle(id, err);
		this.dropped += events.length;
		err.events = events;
		if (!quiet)
			this.emit('error', err);
		this.emit('drop', { reason: err.code, message: err.message,
		    events });
		this.store.save();
	}

	// The events of ids were acknowledged.
	ok(ids) {
		const set = new Set(ids);
		const n = this.q.length;

		this.q = this.q.filter((x) => !set.has(x.e.id));
		this.acked += n - this.q.length;
		for (const id of set)
			this.settle(id);
		this.store.save();
	}

	/*
	 * Handles the errors of an answer to the batch of events (undefined
	 * when the batch is no longer known): an error with an index drops
	 * that event; one for the whole message halves the batches
	 * (too_many_events), drops them all (invalid_body, no_events) or
	 * holds everything for retry seconds. Then top, if given, drops the
	 * events of the batch still queued.
	 */
	fail(events, errors, retry, top) {
		for (const x of errors) {
			const e = events && events[x.index];
			if (e) {
				this.drop([e], error(x.code, x.message));
			} else if (x.index != null) {
				continue;
			} else if (x.code === 'too_many_events') {
				if (events)
					this.halve(events.length);
			} else if (x.code === 'invalid_body' || x.code === 'no_events') {
				top = error(x.code, x.message);
			} else {
				this.hold = this.now() + (retry || this.o.retryAfter) *
				    1000;
			}
		}
		if (top && events) {
			const queued = new Set(this.q.map((x) => x.e));
			this.drop(events.filter((e) => queued.has(e)), top);
		}
	}

	// A batch of n events was too large: later ones get half of it.
	halve(n) {
		this.max = Math.min(this.max, Math.ceil(n / 2));
	}

	// Batch b is answered or given up: its events are free again.
	done(b) {
		this.fly.delete(b.ref);
		this.ct(b.t);
		for (const e of b.events)
			this.busy.delete(e.id);
	}

	// The WebSocket closed: its batches go out again.
	lost() {
		for (const b of this.fly.values()) {
			if (b.ws)
				this.done(b);
		}
		this.pump(true);
	}

	// sluice:ack or sluice:nack d.
	reply(d) {
		const b = this.fly.get(d.ref);

		if (b)
			this.done(b);
		this.ok(d.ids || []);
		if (d.errors)
			this.fail(b && b.events, d.errors, d.retry_after);
		this.pump(!!d.errors);
	}

	// The answer to the POST of batch b: status (0: none), the reply's
	// JSON and its Retry-After.
	posted(b, status, d, retry) {
		const o = this.o;
		const n = b.events.length;

		if (this.fly.get(b.ref) !== b)
			return;
		this.done(b);
		if (status >= 200 && status < 300) {
			this.hn = 0;
			this.ok(d.ids || []);
			if (d.errors)
				this.fail(b.events, d.errors);
			this.pump();
			return;
		} else if (status === 429 || status === 503) {
			this.hold = this.now() + (parseFloat(retry) || o.retryAfter) *
			    1000;
		} else if (status === 413 && n > 1) {
			this.halve(n);
		} else if (status >= 400 && status < 500 && status !== 408) {
			this.fail(b.events, d.errors || [], 0, error(d.error ||
			    `http_${status}`, d.message || `HTTP ${status}`,
			    { status }));
		} else {
			this.hhold = this.now() + backoff(0, this.hn++, o.reconnectMin,
			    o.reconnectMax, this.random);
		}
		this.pump(true);
	}

	// The events of the next batch: the oldest not in flight, up to the
	// batch size and bytes.
	take() {
		const events = [];
		let bytes = 2;

		for (const x of this.q) {
			if (this.busy.has(x.e.id))
				continue;
			if (events.length >= this.max || (events.length &&
			    bytes + x.n + 40 > this.o.batchBytes))
				break;
			events.push(x.e);
			bytes += x.n + 40;
		}
		return events;
	}

	/*
	 * Sends batches while fewer than maxInflight are in flight: over the
	 * WebSocket when it is established, else with fetch once wsFailures
	 * attempts failed (or the WebSocket is out). A partial batch goes only
	 * when due: forced (flushInterval passed, a flush, events to send
	 * again) and not yet all sent since; else it waits for the flush timer.
	 */
	pump(force) {
		const o = this.o;
		const L = this.link;
		const ws = !!(L && L.sid);
		const http = !ws && !!this.fetch && o.httpUrl != null &&
		    (!L || L.dead || L.n >= o.wsFailures);
		const now = this.now();
		const hold = Math.max(this.hold, http ? this.hhold : 0);

		if (this.closed || (!ws && !http))
			return;
		if (hold > now) {
			this.timer('pump', hold - now, () => this.pump(true));
			return;
		}
		if (force)
			this.due = true;
		while (this.fly.size < o.maxInflight) {
			const events = this.take();
			if (!events.length) {
				this.due = false;
				return;
			}
			if (events.length < this.max && !this.due) {
				if (this.t.flush === undefined)
					this.timer('flush', o.flushInterval,
					    () => this.pump(true));
				return;
			}
			const b = { ref: `${this.id}.${++this.seq}`, events, ws };
			const sentAt = this.now();
			const body = events.map((e) => ({ ...e, sent_at: sentAt }));
			this.fly.set(b.ref, b);
			for (const e of events)
				this.busy.add(e.id);
			if (ws) {
				L.send('sluice:publish', { ref: b.ref, events: body });
				b.t = this.st(() => {
					if (this.fly.get(b.ref) === b) {
						this.done(b);
						this.pump(true);
					}
				}, o.ackTimeout);
			} else {
				post(this, b, body);
			}
		}
	}
}
