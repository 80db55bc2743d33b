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
	// The store of client c; start() takes hold of it.
	constructor(c) {
		const o = c.o;
		let st = o.storage;

		if (st === undefined) {
			try {
				st = c.w.localStorage;
			} catch {
				// storage disabled: the queue lives in memory only
			}
		}
		this.c = c;
		this.st = st || null;
		this.p = `${o.prefix || `sluice:${o.key}`}:`;
		this.locks = o.locks !== undefined ? o.locks : c.nav.locks;
		this.own = !this.st;	// may write our queue key
		this.dirty = false;
		this.free = null;	// releases our lock
	}

	// The value stored under PREFIX:k, or null.
	get(k) {
		try {
			return JSON.parse(this.st.getItem(this.p + k));
		} catch {
			return null;
		}
	}

	// Stores v under PREFIX:k (null removes it); a failure (quota) is
	// reported as an error "storage", and the events stay in memory.
	set(k, v) {
		if (!this.st)
			return;
		try {
			if (v == null)
				this.st.removeItem(this.p + k);
			else
				this.st.setItem(this.p + k, JSON.stringify(v));
		} catch (e) {
			this.c.emit('error', error('storage', e.message));
		}
	}

	// Takes hold of our queue key, then adopts orphans every scanInterval.
	start() {
		const c = this.c;
		const ready = () => {
			this.own = true;
			this.save(true);
			this.scan();
		};

		if (!this.st)
			return;
		if (!this.locks) {
			ready();
			return;
		}
		this.locks.request(this.p + c.id, () => {
			if (c.closed)
				return null;
			ready();
			return new Promise((resolve) => {
				this.free = resolve;
			});
		}).catch((e) => c.emit('error', error('lock', e && e.message)));
	}

	// Writes the queue, at once if now, else at the end of this task (all
	// the changes of one task make one write).
	save(now) {
		const c = this.c;

		if (!now) {
			if (!this.dirty) {
				this.dirty = true;
				queueMicrotask(() => this.dirty && this.save(true));
			}
			return;
		}
		if (!this.own)
			return;
		this.dirty = false;
		const q = c.q.length ? c.q.map((x) => x.e) : null;
		this.set(`q:${c.id}`, q);
		if (!this.locks)
			this.lease(q);
	}

	// Lease mode: holds (or lets go of) our lease, renewed in time.
	lease(q) {
		const c = this.c;
		const ttl = c.o.leaseTtl;

		this.set(`l:${c.id}`, q && [c.id, c.now() + ttl]);
		c.timer('lease', q ? ttl / 3 : -1, () => this.lease(c.q.length));
	}

	// Adopts the queues of the instances that are gone.
	scan() {
		const c = this.c;
		const st = this.st;
		const pre = `${this.p}q:`;
		const ids = [];

		for (let i = 0; i < st.length; i++) {
			const k = st.key(i);
			if (k && k.startsWith(pre) && k !== pre + c.id)
				ids.push(k.slice(pre.length));
		}
		for (const id of ids) {
			if (this.locks) {
				this.locks.request(this.p + id, { ifAvailable: true },
				    (lock) => {
					if (lock)
						this.adopt(id);
				}).catch(() => {});
				continue;
			}
			const l = this.get(`l:${id}`);
			if (l && l[1] > c.now())
				continue;
			this.set(`l:${id}`, [c.id, c.now() + c.o.leaseTtl]);
			c.st(() => {
				const l2 = this.get(`l:${id}`);
				if (l2 && l2[0] === c.id && this.own) {
					this.adopt(id);
					this.set(`l:${id}`, null);
				}
			}, c.o.claimDelay);
		}
		c.timer('scan', c.o.scanInterval, () => this.scan());
	}

	// Takes the events queued under id into our queue, writes it, then
	// removes the orphan's key.
	adopt(id) {
		const c = this.c;
		const events = this.get(`q:${id}`);

		if (c.closed)
			return;
		if (Array.isArray(events))
			c.add(events, true);
		this.save(true);
		this.set(`q:${id}`, null);
		c.pump(true);
	}

	// Writes the queue and lets go of it: another instance adopts what is
	// left.
	release() {
		this.save(true);
		this.own = false;
		if (this.free)
			this.free();
		else if (this.st && !this.locks)
			this.set(`l:${this.c.id}`, null);
		this.c.timer('lease');
	}
}
