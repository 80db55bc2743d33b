// link.js: the WebSocket to sluiced, speaking the Pusher protocol (version
// 7). It connects, pings the server after activity_timeout of silence and
// drops a link that does not answer, reconnects with exponential backoff
// and jitter by the close code, subscribes the channels again after every
// reconnect, and hands sluice:ack and sluice:nack to the client and channel
// events to the subscribers. Single-threaded; its timers are the client's.

import { call, error } from './util.js';

export const VERSION = '0.1.0';

/*
 * The wait in ms before reconnecting after a close with code, when n
 * connection attempts in a row have failed: -1 for 4000-4099 (do not
 * reconnect), 0 for 4200-4299 (at once), else min * 2^n (8 times that for
 * 4100-4199) capped at max, of which a random part (up to a half) is taken
 * off so that clients spread out.
 */
export function backoff(code, n, min, max, random) {
	if (code >= 4000 && code < 4100)
		return -1;
	if (code >= 4200 && code < 4300)
		return 0;
	const d = Math.min(max, min * 2 ** (n + (code >= 4100 && code < 4200 ?
	    3 : 0)));
	return d - random() * d / 2;
}

export class Link {
	// The link of client c, with WS the WebSocket class; open() starts it.
	constructor(c, WS) {
		this.c = c;
		this.WS = WS;
		this.subs = new Map();	// channel -> Set of handlers
		this.n = 0;		// failed attempts since the last success
		this.sid = null;	// socket_id once established
		this.ws = null;
		this.dead = false;	// closed with 4000-4099: not reconnecting
	}

	// Opens a WebSocket; a constructor that throws (a bad URL) is final.
	open() {
		const c = this.c;
		const o = c.o;
		let ws;

		try {
			ws = this.ws = new this.WS(`${o.wsUrl}/app/` +
			    `${encodeURIComponent(o.key)}?protocol=7&client=sluice-js` +
			    `&version=${VERSION}`);
		} catch (e) {
			this.dead = true;
			c.emit('error', error('ws', e.message));
			c.setState('failed');
			return;
		}
		c.setState('connecting');
		c.timer('ws', o.connectTimeout, () => this.drop());
		ws.onmessage = (ev) => ws === this.ws && this.recv(ev.data);
		ws.onclose = (ev) => ws === this.ws && this.closed(ev.code);
		ws.onerror = () => {};	// onclose follows
	}

	// Gives up on the WebSocket (no connection or no pong in time).
	drop() {
		const ws = this.ws;

		if (!ws)
			return;
		this.ws = null;
		try {
			ws.close();
		} catch {
			// closing anyway
		}
		this.closed(1006);
	}

	// The WebSocket closed with code: the client gets its batches back,
	// and a reconnect is timed by the code.
	closed(code) {
		const c = this.c;
		const o = c.o;

		if (!this.sid)
			this.n++;
		this.ws = this.sid = null;
		c.timer('ping');
		c.timer('ws');
		const d = backoff(code, this.n, o.reconnectMin, o.reconnectMax,
		    c.random);
		if (d < 0)
			this.dead = true;
		c.lost();
		if (c.closed)
			return;
		if (d < 0) {
			c.setState('failed');
		} else {
			c.setState('disconnected');
			c.timer('ws', d, () => this.open());
		}
	}

	// One message from the server.
	recv(text) {
		const c = this.c;
		const o = c.o;
		let m;
		let d;

		try {
			m = JSON.parse(text);
			d = m.data;
			if (typeof d === 'string')
				d = JSON.parse(d);
		} catch {
			if (!m)
				return;
		}
		const ev = m.event;
		d ||= {};
		if (ev === 'pusher:connection_established') {
			this.sid = d.socket_id;
			this.n = 0;
			this.activity = Math.min(o.activityTimeout,
			    d.activity_timeout * 1000 || Infinity);
			c.timer('ws');
			c.setState('connected');
			for (const ch of this.subs.keys())
				this.sub(ch);
			c.pump(true);
		} else if (ev === 'pusher:ping') {
			this.send('pusher:pong', {});
		} else if (ev === 'pusher:error') {
			c.emit('error', error(d.code || 'ws', d.message));
		} else if (ev === 'pusher:subscription_error') {
			c.emit('error', error('subscription', d.error,
			    { channel: m.channel, status: d.status, type: d.type }));
		} else if (ev === 'sluice:ack' || ev === 'sluice:nack') {
			c.reply(d);
		} else if (m.channel && !/^pusher/.test(ev)) {
			for (const fn of this.subs.get(m.channel) || [])
				call(fn, d, ev);
		}
		// Silence for activity_timeout: ping; no answer: drop.
		if (this.sid) {
			c.timer('ping', this.activity, () => {
				this.send('pusher:ping', {});
				c.timer('ping', o.pongTimeout, () => this.drop());
			});
		}
	}

	// Sends {event, data}; false when the WebSocket is not open.
	send(event, data) {
		const ws = this.ws;

		if (!ws || ws.readyState !== 1)
			return false;
		ws.send(JSON.stringify({ event, data }));
		return true;
	}

	// Subscribes channel on the current connection (if any), with the
	// auth from the authorizer for private- channels.
	sub(channel) {
		const c = this.c;
		const sid = this.sid;
		const auth = c.o.authorizer;

		if (!sid)
			return;
		if (!auth || !/^private-/.test(channel)) {
			this.send('pusher:subscribe', { channel });
			return;
		}
		Promise.resolve().then(() => auth(sid, channel)).then((a) => {
			if (this.sid === sid && this.subs.has(channel))
				this.send('pusher:subscribe', { channel, auth: a });
		}, (e) => c.emit('error', error('auth', e && e.message,
		    { channel })));
	}

	// Adds handler to channel; returns the function that removes it (and
	// unsubscribes once the channel has no handler left).
	subscribe(channel, handler) {
		let set = this.subs.get(channel);

		if (!set) {
			this.subs.set(channel, set = new Set());
			this.sub(channel);
		}
		set.add(handler);
		return () => {
			if (set.delete(handler) && !set.size &&
			    this.subs.get(channel) === set) {
				this.subs.delete(channel);
				this.send('pusher:unsubscribe', { channel });
			}
		};
	}

	// Closes the WebSocket for good.
	close() {
		const ws = this.ws;

		this.ws = this.sid = null;
		this.dead = true;
		if (ws) {
			try {
				ws.close(1000);
			} catch {
				// gone already
			}
		}
	}
}
