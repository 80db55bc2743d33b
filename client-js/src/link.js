// link.js: the WebSocket to sluiced, speaking the Pusher protocol (version
// 7). It connects, pings the server after activity_timeout of silence and
// drops a link that does not answer, reconnects with exponential backoff
// and jitter by the close code, subscribes the channels again after every
// reconnect, and hands sluice:ack and sluice:nack to the client and channel
// events to the subscribers. Subscribers get envelopes: a link with
// subscriptions asks for the envelope format (format=envelope on the URL,
// or sluice:options before its first subscribe), and hands a frame without
// an envelope (sluiced sends none for some events) over as {channel, event,
// data}. Single-threaded; its timers are the client's.

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

export class Link {
	// The link of client, with WebSocket the WebSocket class; _open()
	// starts it.
	constructor(client, WebSocket) {
		this._client = client;
		this._WebSocket = WebSocket;
		this._subscriptions = new Map();	// channel -> Set of handlers
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
		const channel = message.channel;
		// A channel event's data as it was published, or its envelope.
		const event = message.envelope ? data : { channel, event: name,
		    data };
		data ||= {};
		if (name === 'pusher:connection_established') {
			this._socketId = data.socket_id;
			this._failures = 0;
			this._activityTimeout = Math.min(options.activityTimeout,
			    data.activity_timeout * 1000 || Infinity);
			client._timer('ws');
			client._setState('connected');
			for (const channel of this._subscriptions.keys())
				this._sendSubscribe(channel);
			client._pump(true);
		} else if (name === 'pusher:ping') {
			this._send('pusher:pong', {});
		} else if (name === 'pusher:error') {
			client._emit('error', error(data.code || 'ws', data.message));
		} else if (name === 'pusher:subscription_error') {
			client._emit('error', error('subscription', data.error,
			    { channel: message.channel, status: data.status,
			    type: data.type }));
		} else if (name === 'sluice:ack' || name === 'sluice:nack') {
			client._reply(data);
		} else if (channel && !/^pusher/.test(name)) {
			for (const handler of this._subscriptions.get(channel) || [])
				call(handler, event, name);
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

	// Sends {event, data}; false when the WebSocket is not open.
	_send(event, data) {
		const socket = this._socket;

		if (!socket || socket.readyState !== 1)
			return false;
		socket.send(JSON.stringify({ event, data }));
		return true;
	}

	// Subscribes channel on the current connection (if any), with the
	// auth from the authorizer for private- channels.
	_sendSubscribe(channel) {
		const client = this._client;
		const socketId = this._socketId;
		const authorizer = client._options.authorizer;

		if (!socketId)
			return;
		if (!this._envelope) {
			this._envelope = this._send('sluice:options',
			    { format: 'envelope' });
		}
		if (!authorizer || !/^private-/.test(channel)) {
			this._send('pusher:subscribe', { channel });
			return;
		}
		const subscribe = (auth) => {
			if (this._socketId === socketId &&
			    this._subscriptions.has(channel))
				this._send('pusher:subscribe', { channel, auth });
		};
		Promise.resolve().then(() => authorizer(socketId, channel)).then(
		    subscribe, (err) => client._emit('error', error('auth',
		    err && err.message, { channel })));
	}

	// Adds handler to channel; returns the function that removes it (and
	// unsubscribes once the channel has no handler left).
	_subscribe(channel, handler) {
		let handlers = this._subscriptions.get(channel);

		if (!handlers) {
			this._subscriptions.set(channel, handlers = new Set());
			this._sendSubscribe(channel);
		}
		handlers.add(handler);
		return () => {
			if (handlers.delete(handler) && !handlers.size &&
			    this._subscriptions.get(channel) === handlers) {
				this._subscriptions.delete(channel);
				this._send('pusher:unsubscribe', { channel });
			}
		};
	}

	// Closes the WebSocket for good.
	_close() {
		const socket = this._socket;

		this._socket = this._socketId = null;
		this._dead = true;
		if (socket) {
			try {
				socket.close(1000);
			} catch {
				// gone already
			}
		}
	}
}
