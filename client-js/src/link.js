// link.js: the WebSocket to sluiced, speaking the Pusher protocol (version
// 7). It connects, pings the server after activity_timeout of silence and
// drops a link that does not answer, reconnects with exponential backoff
// and jitter by the close code, subscribes the channels again after every
// reconnect (private- and presence- ones with the authorizer's answer for
// the new socket_id), keeps the members of presence channels, sends client
// events, and hands sluice:ack and sluice:nack to the client and channel
// events to the handlers of each subscription. Subscribers get envelopes:
// a link with subscriptions asks for the envelope format (format=envelope
// on the URL, or sluice:options before its first subscribe), and hands a
// frame without an envelope (sluiced sends none for some events) over as
// {channel, event, data}. Single-threaded; its timers are the client's.

import { call, error } from './util.js';

export const VERSION = '0.1.0';

/*
 * The wait in ms before reconnecting after a close with code, when failures
 * connection attempts in a row have failed: -1 for 4000-4099 (do not
 * reconnect), 0 for 4200-4299 (at once), else min * 2^failures (8 times
 * that for 4100-4199) capped at max, of which a random part (up to a half)
 * is taken off so that clients spread out.
 */
export function backoff(code, failures, min, max, random) {
	if (code >= 4000 && code < 4100)
		return -1;
	if (code >= 4200 && code < 4300)
		return 0;
	const delay = Math.min(max, min * 2 ** (failures + (code >= 4100 &&
	    code < 4200 ? 3 : 0)));
	return delay - random() * delay / 2;
}

// A subscription's record, before it is subscribed.
export function subscribable() {
	return { _handlers: new Set(), _subscribed: false, _members: new Map(),
	    _me: null, _userId: null };
}

export class Link {
	// The link of client, with WebSocket the WebSocket class; _open()
	// starts it.
	constructor(client, WebSocket) {
		this._client = client;
		this._WebSocket = WebSocket;
		// channel -> its subscription: _handlers (a Set of handler
		// objects), _subscribed, and for presence _members (id ->
		// {id, info}), _me and _userId (from the authorizer)
		this._subscriptions = new Map();
		this._failures = 0;	// failed attempts since the last success
		this._socketId = null;	// socket_id once established
		this._socket = null;
		this._dead = false;	// closed with 4000-4099: not reconnecting
		this._activityTimeout = 0;	// ms of silence before a ping
		this._envelope = false;	// this socket takes envelopes
	}

	// Opens a WebSocket; a constructor that throws (a bad URL) is final.
	_open() {
		const client = this._client;
		const options = client._options;
		let socket;

		// Subscribers need envelopes; a link without any asks for them
		// when it gets one (_sendSubscribe).
		this._envelope = this._subscriptions.size > 0;
		try {
			socket = this._socket = new this._WebSocket(
			    `${options.wsUrl}/app/${encodeURIComponent(options.key)}` +
			    `?protocol=7&client=sluice-js&version=${VERSION}` +
			    (this._envelope ? '&format=envelope' : ''));
		} catch (err) {
			this._dead = true;
			client._emit('error', error('ws', err.message));
			client._setState('failed');
			return;
		}
		client._setState('connecting');
		client._timer('ws', options.connectTimeout, () => this._giveUp());
		socket.onmessage = (message) => socket === this._socket &&
		    this._receive(message.data);
		socket.onclose = (closeEvent) => socket === this._socket &&
		    this._onClose(closeEvent.code);
		socket.onerror = () => {};	// onclose follows
	}

	// Gives up on the WebSocket (no connection or no pong in time).
	_giveUp() {
		const socket = this._socket;

		if (!socket)
			return;
		this._socket = null;
		try {
			socket.close();
		} catch {
			// closing anyway
		}
		this._onClose(1006);
	}

	// The WebSocket closed with code: the client gets its batches back,
	// and a reconnect is timed by the code.
	_onClose(code) {
		const client = this._client;
		const options = client._options;

		if (!this._socketId)
			this._failures++;
		this._socket = this._socketId = null;
		this._unsubscribed();
		client._timer('ping');
		client._timer('ws');
		const delay = backoff(code, this._failures, options.reconnectMin,
		    options.reconnectMax, client._random);
		if (delay < 0)
			this._dead = true;
		client._lost();
		if (client._closed)
			return;
		if (delay < 0) {
			client._setState('failed');
		} else {
			client._setState('disconnected');
			client._timer('ws', delay, () => this._open());
		}
	}

	// One message from the server.
	_receive(text) {
		const client = this._client;
		const options = client._options;
		let message;
		let data;

		try {
			message = JSON.parse(text);
			data = message.data;
			if (typeof data === 'string')
				data = JSON.parse(data);
		} catch {
			if (!message)
				return;
		}
		const name = message.event;
		const fields = data || {};
		const subscription = this._subscriptions.get(message.channel);
		if (name === 'pusher:connection_established') {
			this._socketId = fields.socket_id;
			this._failures = 0;
			this._activityTimeout = Math.min(options.activityTimeout,
			    fields.activity_timeout * 1000 || Infinity);
			client._timer('ws');
			client._setState('connected');
			for (const channel of this._subscriptions.keys())
				this._sendSubscribe(channel);
			client._pump(true);
		} else if (name === 'pusher:ping') {
			this._send('pusher:pong', {});
		} else if (name === 'pusher:error') {
			client._emit('error', error(fields.code || 'ws',
			    fields.message));
		} else if (name === 'pusher:subscription_error') {
			client._emit('error', error('subscription', fields.error,
			    { channel: message.channel, status: fields.status,
			    type: fields.type }));
		} else if (name === 'sluice:ack' || name === 'sluice:nack') {
			client._reply(fields);
		} else if (subscription) {
			this._deliver(subscription, name, data, fields, message);
		}
		// Silence for activity_timeout: ping; no answer: give up.
		if (this._socketId) {
			client._timer('ping', this._activityTimeout, () => {
				this._send('pusher:ping', {});
				client._timer('ping', options.pongTimeout,
				    () => this._giveUp());
			});
		}
	}

	/*
	 * A message of event name on the channel of subscription (data as
	 * parsed, fields that or {}): the subscription's success (with a
	 * presence channel's members), a member added or removed, a client
	 * event (from the member message.user_id on presence channels) or an
	 * event of the server; each goes to the handlers that take it.
	 */
	_deliver(subscription, name, data, fields, message) {
		const members = subscription._members;
		const id = message.user_id ?? fields.user_id;
		let member = id == null ? null : members.get(String(id)) ||
		    { id: String(id) };

		if (name === 'pusher_internal:subscription_succeeded') {
			const presence = fields.presence || {};
			members.clear();
			for (const key of presence.ids || []) {
				members.set(String(key), { id: String(key),
				    info: (presence.hash || {})[key] });
			}
			subscription._subscribed = true;
			subscription._me = members.get(subscription._userId) || null;
			this._dispatch(subscription, 'subscribed', members);
		} else if (name === 'pusher_internal:member_added' && member) {
			member = { id: member.id, info: fields.user_info };
			if (!members.has(member.id)) {
				members.set(member.id, member);
				this._dispatch(subscription, 'member_added', member);
			}
		} else if (name === 'pusher_internal:member_removed' && member) {
			if (members.delete(member.id))
				this._dispatch(subscription, 'member_removed', member);
		} else if (/^client-/.test(name)) {
			this._dispatch(subscription, 'client', data, name, member);
		} else if (!/^pusher/.test(name)) {
			// Its envelope, or the data as it was published.
			this._dispatch(subscription, 'event', message.envelope ?
			    data : { channel: message.channel, event: name, data },
			    name);
		}
	}

	// Calls the kind handler of each of subscription's handler objects
	// with args.
	_dispatch(subscription, kind, ...args) {
		for (const handlers of subscription._handlers) {
			if (handlers[kind])
				call(handlers[kind], ...args);
		}
	}

	// The connection is gone: no subscription holds on it any more.
	_unsubscribed() {
		for (const subscription of this._subscriptions.values())
			this._reset(subscription);
	}

	_reset(subscription) {
		subscription._subscribed = false;
		subscription._members.clear();
		subscription._me = null;
	}

	// Sends {event, data} (and channel, when given); false when the
	// WebSocket is not open.
	_send(event, data, channel) {
		const socket = this._socket;

		if (!socket || socket.readyState !== 1)
			return false;
		socket.send(JSON.stringify({ event, channel, data }));
		return true;
	}

	/*
	 * Subscribes channel on the current connection (if any): private- and
	 * presence- channels with the authorizer's answer for this socket_id,
	 * an auth string or {auth, channel_data} (whose user_id is the
	 * connection's member on a presence channel).
	 */
	_sendSubscribe(channel) {
		const client = this._client;
		const socketId = this._socketId;
		const authorizer = client._options.authorizer;
		const subscription = this._subscriptions.get(channel);

		if (!socketId)
			return;
		if (!this._envelope) {
			this._envelope = this._send('sluice:options',
			    { format: 'envelope' });
		}
		if (!authorizer || !/^(private|presence)-/.test(channel)) {
			this._send('pusher:subscribe', { channel });
			return;
		}
		const subscribe = (answer) => {
			const channelData = answer?.channel_data;
			if (this._socketId !== socketId ||
			    this._subscriptions.get(channel) !== subscription)
				return;
			try {
				subscription._userId = String(JSON.parse(
				    channelData).user_id);
			} catch {
				// no member data (a private- channel)
			}
			this._send('pusher:subscribe', { channel,
			    auth: answer?.auth ?? answer,
			    channel_data: channelData });
		};
		Promise.resolve().then(() => authorizer(socketId, channel)).then(
		    subscribe, (err) => client._emit('error', error('auth',
		    err && err.message, { channel })));
	}

	// Adds handlers (an object, see ChannelHandlers in index.d.ts) to
	// channel, subscribing it if they are its first; returns the
	// subscription.
	_join(channel, handlers) {
		let subscription = this._subscriptions.get(channel);

		if (!subscription) {
			this._subscriptions.set(channel, subscription =
			    subscribable());
			this._sendSubscribe(channel);
		}
		subscription._handlers.add(handlers);
		return subscription;
	}

	// Removes handlers from subscription of channel; unsubscribes once it
	// has none left.
	_leave(channel, subscription, handlers) {
		if (subscription._handlers.delete(handlers) &&
		    !subscription._handlers.size &&
		    this._subscriptions.get(channel) === subscription) {
			this._subscriptions.delete(channel);
			this._reset(subscription);
			this._send('pusher:unsubscribe', { channel });
		}
	}

	// Sends client event name on channel with data: false unless the
	// subscription of channel succeeded on the open connection.
	_trigger(channel, name, data) {
		const subscription = this._subscriptions.get(channel);

		return !!(subscription && subscription._subscribed &&
		    this._send(name, data, channel));
	}

	// Closes the WebSocket for good.
	_close() {
		const socket = this._socket;

		this._socket = this._socketId = null;
		this._dead = true;
		this._unsubscribed();
		if (socket) {
			try {
				socket.close(1000);
			} catch {
				// gone already
			}
		}
	}
}
