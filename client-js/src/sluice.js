// sluice.js: the client, its public API. track() queues an event with a
// UUIDv7 id; the queue is persisted (store.js) and bounded; _pump() cuts it
// into batches by count, bytes and time and sends each over the WebSocket
// (link.js) as sluice:publish, or with fetch (http.js) while the WebSocket
// cannot connect. A batch waits for its answer: acknowledged events leave
// the queue and their promises resolve; events the server rejects are
// dropped and reported; the rest (no answer in time, a lost connection, a
// retry_after) are sent again, with the same ids and a new sent_at. When
// the page is hidden or goes away, the queue is saved and beaconed.
// Single-threaded: every method runs on the page's event loop. Members
// named with a leading _ are private (build.mjs shortens them in the
// minified build); the rest are the API of index.d.ts.

import { Channel } from './channel.js';
import { beacon, post } from './http.js';
import { backoff, Link, subscribable } from './link.js';
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
	constructor(settings) {
		super();
		const options = this._options = { ...DEFAULTS, ...settings };
		const window = this._window = options.window || globalThis;
		const navigator = this._navigator = window.navigator || {};
		const WebSocket = options.WebSocket || globalThis.WebSocket;

		this._now = options.now || Date.now;
		this._setTimeout = options.setTimeout ||
		    ((callback, ms) => setTimeout(callback, ms));
		this._clearTimeout = options.clearTimeout ||
		    ((handle) => clearTimeout(handle));
		this._random = options.random || Math.random;
		this._fetch = options.fetch || (globalThis.fetch &&
		    ((url, init) => fetch(url, init)));
		this._sendBeacon = options.sendBeacon || (navigator.sendBeacon &&
		    ((url, body) => navigator.sendBeacon(url, body)));
		this._id = uuid7(this._now()).slice(-12);	// this instance's
		this._queue = [];		// {_event, _bytes}, oldest first
		this._busy = new Set();		// ids in a batch in flight
		this._inFlight = new Map();	// ref -> batch in flight
		this._pending = new Map();	// id -> {_resolve, _reject, _promise}
		this._beaconed = new Set();	// ids handed to sendBeacon
		this._timers = {};		// timer handles by name
		this._batchSize = options.batchSize;	// halved by too_many_events
		this._sequence = 0;		// batches made (their refs)
		this._due = false;		// partial batches may go
		this._holdUntil = 0;		// send nothing before (ms)
		this._httpHoldUntil = 0;	// post nothing before (ms)
		this._httpFailures = 0;		// failed posts in a row
		this._keepaliveBytes = 0;	// bytes posted with keepalive
		this.acked = 0;
		this.dropped = 0;
		this._closed = false;
		this.state = 'disconnected';
		this._store = new Store(this);
		this.user = this._store._get('u');
		this._store._start();
		this._link = options.wsUrl && WebSocket ? new Link(this, WebSocket) :
		    null;
		if (this._link)
			this._link._open();
		const document = window.document;
		const hide = (event) => {
			if (event.type !== 'pagehide' &&
			    document.visibilityState !== 'hidden')
				return;
			this._store._save(true);
			beacon(this);
			if (event.type === 'pagehide' && !event.persisted)
				this._stop();
		};
		if (window.addEventListener) {
			window.addEventListener('pagehide', hide);
			if (document)
				document.addEventListener('visibilitychange', hide);
			this._unlisten = () => {
				window.removeEventListener('pagehide', hide);
				if (document)
					document.removeEventListener('visibilitychange',
					    hide);
			};
		}
	}

	get queued() {
		return this._queue.length;
	}

	static uuid7(ms) {
		return uuid7(ms);
	}

	// Runs callback after ms under name, replacing the timer of that
	// name; no ms (or a negative one) only cancels it.
	_timer(name, ms, callback) {
		const timers = this._timers;

		if (timers[name] !== undefined)
			this._clearTimeout(timers[name]);
		delete timers[name];
		if (ms >= 0) {
			timers[name] = this._setTimeout(() => {
				delete timers[name];
				callback();
			}, ms);
		}
	}

	_setState(state) {
		const previous = this.state;

		if (state !== previous) {
			this.state = state;
			this._emit('state', state, previous);
		}
	}

	/*
	 * Queues an event; the promise resolves with its id once the gateway
	 * acknowledged it, and rejects (an Error with the code) when it is
	 * dropped: rejected by the server, pushed out of a full queue, or too
	 * large to send.
	 */
	track(name, data, trackOptions = {}) {
		if (this._closed)
			return Promise.reject(error('closed', 'the client is closed'));
		const now = this._now();
		const event = { id: trackOptions.id || uuid7(now), event: name };
		const channel = trackOptions.channel || this._options.channel;
		const user = this.user;
		if (channel)
			event.channel = channel;
		if (user && (data == null || (typeof data === 'object' &&
		    !Array.isArray(data))))
			data = { ...data, user };
		if (data !== undefined)
			event.data = data;
		event.timestamp = now;
		const promise = this._wait(event.id);
		this._add([event]);
		this._pump();
		return promise;
	}

	// A page_view of the page: url, path, referrer and title (and data).
	page(data, trackOptions) {
		const location = this._window.location || {};
		const document = this._window.document || {};

		return this.track('page_view', { url: location.href,
		    path: location.pathname, referrer: document.referrer,
		    title: document.title, ...data }, trackOptions);
	}

	// Attaches {id, traits} as data.user to the events tracked from now
	// on (when their data is an object or absent), here and in later page
	// loads; identify(null) forgets it.
	identify(id, traits) {
		this.user = id == null ? null : traits ? { id, traits } : { id };
		this._store._set('u', this.user);
	}

	// Calls handler(envelope, eventName) for every event of channel (a
	// client event, which has no envelope, as {channel, event, data});
	// returns the function that stops it.
	subscribe(channel, handler) {
		const held = this.join(channel, { event: handler,
		    client: (data, event) => handler({ channel, event, data },
		    event) });
		return () => held.leave();
	}

	/*
	 * Subscribes to channel (again after every reconnect) with handlers,
	 * an object of optional functions: event(envelope, name), client(data,
	 * name, member), subscribed(members), member_added(member),
	 * member_removed(member). Returns the Channel, which shows the members
	 * of a presence channel and leaves it.
	 */
	join(channel, handlers = {}) {
		const link = this._link;

		return new Channel(this, channel, link ? link._join(channel,
		    handlers) : subscribable(), handlers);
	}

	/*
	 * Sends client event name with data to the other subscribers of
	 * channel, a private- or presence- channel joined here. Throws for a
	 * name not starting with client- and for another kind of channel;
	 * returns false when it cannot be sent now (not connected, or the
	 * subscription not yet confirmed).
	 */
	trigger(channel, name, data) {
		if (!/^client-/.test(name))
			throw error('client_event', `"${name}": the name of a ` +
			    'client event starts with client-');
		if (!/^(private|presence)-/.test(channel) ||
		    /^private-encrypted-/.test(channel))
			throw error('client_event', `"${channel}": client events ` +
			    'go on private- and presence- channels only (not ' +
			    'private-encrypted-)');
		return !!this._link && this._link._trigger(channel, name, data);
	}

	// Sends what is queued now; resolves once all of it was acknowledged
	// or dropped.
	flush() {
		const all = this._queue.map((entry) =>
		    this._wait(entry._event.id).catch(() => {}));

		this._pump(true);
		return Promise.all(all).then(() => {});
	}

	/*
	 * Flushes (waiting closeTimeout ms at most), then stops. What is
	 * still queued stays stored for a later instance; its promises reject
	 * with code "closed".
	 */
	close() {
		this._closing ||= (async () => {
			let handle;
			await Promise.race([this.flush(), new Promise((resolve) => {
				handle = this._setTimeout(resolve,
				    this._options.closeTimeout);
			})]);
			this._clearTimeout(handle);
			this._stop();
		})();
		return this._closing;
	}

	// Stops at once (close(), or the page goes away): timers, WebSocket,
	// listeners; lets go of the stored queue for another instance.
	_stop() {
		if (this._closed)
			return;
		this._closed = true;
		for (const name of Object.keys(this._timers))
			this._timer(name);
		for (const batch of this._inFlight.values())
			this._done(batch);
		if (this._link)
			this._link._close();
		this._store._release();
		if (this._unlisten)
			this._unlisten();
		const err = error('closed', 'closed before it was acknowledged; ' +
		    'it stays queued');
		for (const id of [...this._pending.keys()])
			this._settle(id, err);
		this._setState('closed');
	}

	// The promise of event id (made on first use).
	_wait(id) {
		let pending = this._pending.get(id);

		if (!pending) {
			pending = {};
			pending._promise = new Promise((resolve, reject) => {
				pending._resolve = resolve;
				pending._reject = reject;
			});
			pending._promise.catch(() => {});	// no unhandled rejection
			this._pending.set(id, pending);
		}
		return pending._promise;
	}

	// Resolves (or, with err, rejects) the promise of id, if any.
	_settle(id, err) {
		const pending = this._pending.get(id);

		if (pending) {
			this._pending.delete(id);
			if (err)
				pending._reject(err);
			else
				pending._resolve(id);
		}
	}

	// Appends events to the queue (at the front if older; an id already
	// queued is left out), drops what does not fit, saves.
	_add(events, older) {
		const options = this._options;
		const have = new Set(this._queue.map((entry) => entry._event.id));
		const entries = [];
		const tooLarge = [];

		for (const event of events) {
			if (!event || !event.id || have.has(event.id))
				continue;
			const bytes = utf8(JSON.stringify(event));
			(bytes + 40 > options.batchBytes ? tooLarge : entries).push(
			    { _event: event, _bytes: bytes });
		}
		this._queue = older ? entries.concat(this._queue) :
		    this._queue.concat(entries);
		if (tooLarge.length)
			this._drop(tooLarge.map((entry) => entry._event),
			    error('event_too_large',
			    `an event is over ${options.batchBytes} bytes`));
		const queue = this._queue;
		let bytes = 0;
		let over = 0;
		for (const entry of queue)
			bytes += entry._bytes;
		while (over < queue.length && (queue.length - over >
		    options.maxQueue || bytes > options.maxQueueBytes))
			bytes -= queue[over++]._bytes;
		if (over)
			this._drop(queue.slice(0, over).map((entry) => entry._event),
			    error('queue_full', `the queue is full: dropped the ` +
			    `${over} oldest events`), true);
		this._store._save();
	}

	// Drops events for err: out of the queue, promises rejected, counted,
	// reported by 'drop' (and by 'error' unless quiet).
	_drop(events, err, quiet) {
		const ids = new Set(events.map((event) => event.id));

		this._queue = this._queue.filter((entry) =>
		    !ids.has(entry._event.id));
		for (const id of ids)
			this._settle(id, err);
		this.dropped += events.length;
		err.events = events;
		if (!quiet)
			this._emit('error', err);
		this._emit('drop', { reason: err.code, message: err.message,
		    events });
		this._store._save();
	}

	// The events of ids were acknowledged.
	_acknowledge(ids) {
		const acknowledged = new Set(ids);
		const before = this._queue.length;

		this._queue = this._queue.filter((entry) =>
		    !acknowledged.has(entry._event.id));
		this.acked += before - this._queue.length;
		for (const id of acknowledged)
			this._settle(id);
		this._store._save();
	}

	/*
	 * Handles the errors of an answer to the batch of events (undefined
	 * when the batch is no longer known): an error with an index drops
	 * that event; one for the whole message halves the batches
	 * (too_many_events), drops them all (invalid_body, no_events) or
	 * holds everything for retryAfter seconds. Then allError, if given,
	 * drops the events of the batch still queued.
	 */
	_fail(events, errors, retryAfter, allError) {
		for (const problem of errors) {
			const event = events && events[problem.index];
			if (event) {
				this._drop([event], error(problem.code, problem.message));
			} else if (problem.index != null) {
				continue;
			} else if (problem.code === 'too_many_events') {
				if (events)
					this._halve(events.length);
			} else if (problem.code === 'invalid_body' ||
			    problem.code === 'no_events') {
				allError = error(problem.code, problem.message);
			} else {
				this._holdUntil = this._now() + (retryAfter ||
				    this._options.retryAfter) * 1000;
			}
		}
		if (allError && events) {
			const queued = new Set(this._queue.map((entry) =>
			    entry._event));
			this._drop(events.filter((event) => queued.has(event)),
			    allError);
		}
	}

	// A batch of count events was too large: later ones get half of it.
	_halve(count) {
		this._batchSize = Math.min(this._batchSize, Math.ceil(count / 2));
	}

	// The batch is answered or given up: its events are free again.
	_done(batch) {
		this._inFlight.delete(batch._ref);
		this._clearTimeout(batch._timer);
		for (const event of batch._events)
			this._busy.delete(event.id);
	}

	// The WebSocket closed: its batches go out again.
	_lost() {
		for (const batch of this._inFlight.values()) {
			if (batch._overSocket)
				this._done(batch);
		}
		this._pump(true);
	}

	// The data of a sluice:ack or sluice:nack.
	_reply(data) {
		const batch = this._inFlight.get(data.ref);

		if (batch)
			this._done(batch);
		this._acknowledge(data.ids || []);
		if (data.errors)
			this._fail(batch && batch._events, data.errors,
			    data.retry_after);
		this._pump(!!data.errors);
	}

	// The answer to the POST of batch: status (0: none), the reply's
	// JSON and its Retry-After.
	_posted(batch, status, reply, retryAfter) {
		const options = this._options;
		const count = batch._events.length;

		if (this._inFlight.get(batch._ref) !== batch)
			return;
		this._done(batch);
		if (status >= 200 && status < 300) {
			this._httpFailures = 0;
			this._acknowledge(reply.ids || []);
			if (reply.errors)
				this._fail(batch._events, reply.errors);
			this._pump();
			return;
		} else if (status === 429 || status === 503) {
			this._holdUntil = this._now() + (parseFloat(retryAfter) ||
			    options.retryAfter) * 1000;
		} else if (status === 413 && count > 1) {
			this._halve(count);
		} else if (status >= 400 && status < 500 && status !== 408) {
			this._fail(batch._events, reply.errors || [], 0,
			    error(reply.error || `http_${status}`,
			    reply.message || `HTTP ${status}`, { status }));
		} else {
			this._httpHoldUntil = this._now() + backoff(0,
			    this._httpFailures++, options.reconnectMin,
			    options.reconnectMax, this._random);
		}
		this._pump(true);
	}

	// The events of the next batch: the oldest not in flight, up to the
	// batch size and bytes.
	_take() {
		const events = [];
		let bytes = 2;

		for (const entry of this._queue) {
			if (this._busy.has(entry._event.id))
				continue;
			if (events.length >= this._batchSize || (events.length &&
			    bytes + entry._bytes + 40 > this._options.batchBytes))
				break;
			events.push(entry._event);
			bytes += entry._bytes + 40;
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
	_pump(force) {
		const options = this._options;
		const link = this._link;
		const overSocket = !!(link && link._socketId);
		const http = !overSocket && !!this._fetch &&
		    options.httpUrl != null && (!link || link._dead ||
		    link._failures >= options.wsFailures);
		const now = this._now();
		const holdUntil = Math.max(this._holdUntil,
		    http ? this._httpHoldUntil : 0);

		if (this._closed || (!overSocket && !http))
			return;
		if (holdUntil > now) {
			this._timer('pump', holdUntil - now, () => this._pump(true));
			return;
		}
		if (force)
			this._due = true;
		while (this._inFlight.size < options.maxInflight) {
			const events = this._take();
			if (!events.length) {
				this._due = false;
				return;
			}
			if (events.length < this._batchSize && !this._due) {
				if (this._timers.flush === undefined)
					this._timer('flush', options.flushInterval,
					    () => this._pump(true));
				return;
			}
			const batch = { _ref: `${this._id}.${++this._sequence}`,
			    _events: events, _overSocket: overSocket };
			const sentAt = this._now();
			const body = events.map((event) =>
			    ({ ...event, sent_at: sentAt }));
			this._inFlight.set(batch._ref, batch);
			for (const event of events)
				this._busy.add(event.id);
			if (overSocket) {
				link._send('sluice:publish', { ref: batch._ref,
				    events: body });
				batch._timer = this._setTimeout(() => {
					if (this._inFlight.get(batch._ref) === batch) {
						this._done(batch);
						this._pump(true);
					}
				}, options.ackTimeout);
			} else {
				post(this, batch, body);
			}
		}
	}
}
