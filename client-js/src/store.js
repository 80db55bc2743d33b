// store.js: the queue on disk (localStorage, or the storage given) and
// which instance sends which persisted events.
//
// Every instance (a tab, a page load) keeps its queue under a key of its
// own, PREFIX:q:ID, written by nobody else, so concurrent tabs never lose
// each other's writes. An instance holds its key while it lives: with Web
// Locks (navigator.locks) by a lock named PREFIX:ID, which the browser
// releases when the page goes away; without them by a lease, PREFIX:l:ID =
// [holder, expiry], renewed by a timer while the queue is not empty. A
// queue whose holder is gone (reloaded, closed, crashed) is adopted by one
// live instance: under the orphan's lock, or by writing its lease and
// finding it still its own claimDelay ms later. The adopter takes the
// events into its own queue, writes that, and only then removes the
// orphan's key. Single-threaded; the timers are the client's.

import { error } from './util.js';

export class Store {
	// The store of client; _start() takes hold of it.
	constructor(client) {
		const options = client._options;
		let storage = options.storage;

		if (storage === undefined) {
			try {
				storage = client._window.localStorage;
			} catch {
				// storage disabled: the queue lives in memory only
			}
		}
		this._client = client;
		this._storage = storage || null;
		this._prefix = `${options.prefix || `sluice:${options.key}`}:`;
		this._locks = options.locks !== undefined ? options.locks :
		    client._navigator.locks;
		this._owned = !this._storage;	// may write our queue key
		this._dirty = false;
		this._unlock = null;	// releases our lock
	}

	// The value stored under PREFIX:key, or null.
	_get(key) {
		try {
			return JSON.parse(this._storage.getItem(this._prefix + key));
		} catch {
			return null;
		}
	}

	// Stores value under PREFIX:key (null removes it); a failure (quota)
	// is reported as an error "storage", and the events stay in memory.
	_set(key, value) {
		const storage = this._storage;

		if (!storage)
			return;
		try {
			if (value == null)
				storage.removeItem(this._prefix + key);
			else
				storage.setItem(this._prefix + key, JSON.stringify(value));
		} catch (err) {
			this._client._emit('error', error('storage', err.message));
		}
	}

	// Takes hold of our queue key, then adopts orphans every scanInterval.
	_start() {
		const client = this._client;
		const ready = () => {
			this._owned = true;
			this._save(true);
			this._scan();
		};

		if (!this._storage)
			return;
		if (!this._locks) {
			ready();
			return;
		}
		this._locks.request(this._prefix + client._id, () => {
			if (client._closed)
				return null;
			ready();
			return new Promise((resolve) => {
				this._unlock = resolve;
			});
		}).catch((err) => client._emit('error', error('lock',
		    err && err.message)));
	}

	// Writes the queue, at once if now, else at the end of this task (all
	// the changes of one task make one write).
	_save(now) {
		const client = this._client;

		if (!now) {
			if (!this._dirty) {
				this._dirty = true;
				queueMicrotask(() => this._dirty && this._save(true));
			}
			return;
		}
		if (!this._owned)
			return;
		this._dirty = false;
		const events = client._queue.length ?
		    client._queue.map((entry) => entry._event) : null;
		this._set(`q:${client._id}`, events);
		if (!this._locks)
			this._lease(events);
	}

	// Lease mode: holds our lease (while held is true) or lets go of it,
	// renewed in time.
	_lease(held) {
		const client = this._client;
		const ttl = client._options.leaseTtl;

		this._set(`l:${client._id}`, held &&
		    [client._id, client._now() + ttl]);
		client._timer('lease', held ? ttl / 3 : -1,
		    () => this._lease(client._queue.length));
	}

	// Adopts the queues of the instances that are gone.
	_scan() {
		const client = this._client;
		const options = client._options;
		const storage = this._storage;
		const queuePrefix = `${this._prefix}q:`;
		const ids = [];

		for (let i = 0; i < storage.length; i++) {
			const key = storage.key(i);
			if (key && key.startsWith(queuePrefix) &&
			    key !== queuePrefix + client._id)
				ids.push(key.slice(queuePrefix.length));
		}
		for (const id of ids) {
			if (this._locks) {
				this._locks.request(this._prefix + id, { ifAvailable: true },
				    (lock) => {
					if (lock)
						this._adopt(id);
				}).catch(() => {});
				continue;
			}
			const lease = this._get(`l:${id}`);
			if (lease && lease[1] > client._now())
				continue;
			this._set(`l:${id}`, [client._id, client._now() +
			    options.leaseTtl]);
			client._setTimeout(() => {
				const claim = this._get(`l:${id}`);
				if (claim && claim[0] === client._id && this._owned) {
					this._adopt(id);
					this._set(`l:${id}`, null);
				}
			}, options.claimDelay);
		}
		client._timer('scan', options.scanInterval, () => this._scan());
	}

	// Takes the events queued under id into our queue, writes it, then
	// removes the orphan's key.
	_adopt(id) {
		const client = this._client;
		const events = this._get(`q:${id}`);

		if (client._closed)
			return;
		if (Array.isArray(events))
			client._add(events, true);
		this._save(true);
		this._set(`q:${id}`, null);
		client._pump(true);
	}

	// Writes the queue and lets go of it: another instance adopts what is
	// left.
	_release() {
		this._save(true);
		this._owned = false;
		if (this._unlock)
			this._unlock();
		else if (this._storage && !this._locks)
			this._set(`l:${this._client._id}`, null);
		this._client._timer('lease');
	}
}
