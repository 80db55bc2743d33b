// tests/lib/pusher.mjs: unmodified third-party clients of sluiced: pusher-js
// 8 (its Node build, which carries the encryption of private-encrypted-
// channels) and laravel-echo with its pusher broadcaster.
//
// pusherFor() makes a pusher-js client of a daemon whose channel
// authorization and user authentication are signed by the pusher server
// SDK, as an app's backend would sign them; each client keeps the states
// it went through and the errors it reported. subscribe() resolves the
// subscription's outcome and keeps every event the channel gets, in order.
// echoFor() makes a laravel-echo client on top of the same pusher-js.
// Clients not disconnected by a test are disconnected when the process
// exits.

import Echo from 'laravel-echo';
import Pusher from 'pusher-js';

import { waitFor } from './sluiced.mjs';
import { sdkFor } from './ws.mjs';

const clients = new Set();	// pusher-js clients not yet disconnected
let exitHooked = false;

function hookExit() {
	if (exitHooked)
		return;
	exitHooked = true;
	process.on('exit', () => {
		for (const p of clients)
			p.disconnect();
	});
}

/*
 * The options of a pusher-js client of the daemon handle d (see
 * startSluiced). Options (all optional):
 *   app           the app ({key, secret}; default the daemon's first)
 *   key           the app key sent (default app.key)
 *   user          presence channel data {user_id, user_info} signed into
 *                 the auth of presence- channels
 *   signin        user data {id, ...} that pusher.signin() is signed for
 *   sdk           the pusher server SDK that signs (default sdkFor(app))
 *   authorize     ({socketId, channelName}) => {auth, channel_data?,
 *                 shared_secret?} instead of the SDK's authorizeChannel
 *   authenticate  ({socketId}) => {auth, user_data} instead of the SDK's
 *                 authenticateUser
 *   options       more pusher-js options
 * Errors thrown by authorize and authenticate reach pusher-js as
 * authorization failures.
 */
export function pusherOptions(d, { app = d.app, user, signin, sdk,
    authorize, authenticate, options = {} } = {}) {
	const signer = sdk || sdkFor(app);
	const channelSign = authorize || (({ socketId, channelName }) =>
	    signer.authorizeChannel(socketId, channelName,
	    channelName.startsWith('presence-') ? user : undefined));
	const userSign = authenticate || (({ socketId }) =>
	    signer.authenticateUser(socketId, signin));
	const handler = (sign) => (params, callback) => {
		let result;
		try {
			result = sign(params);
		} catch (e) {
			callback(e, null);
			return;
		}
		callback(null, result);
	};
	return {
		cluster: 'x',
		wsHost: '127.0.0.1',
		wsPort: d.wsPort,
		forceTLS: false,
		enabledTransports: ['ws'],
		channelAuthorization: { customHandler: handler(channelSign) },
		userAuthentication: { customHandler: handler(userSign) },
		...options,
	};
}

// Keeps the states p goes through and the errors it reports.
function watch(p) {
	hookExit();
	clients.add(p);
	p.states = [];
	p.errors = [];
	p.connection.bind('state_change', ({ current }) =>
	    p.states.push(current));
	p.connection.bind('error', (e) => p.errors.push(e));
	return p;
}

// A pusher-js client of the daemon d (options: see pusherOptions).
export function pusherFor(d, opts = {}) {
	const app = opts.app || d.app;
	return watch(new Pusher(opts.key || app.key, pusherOptions(d, opts)));
}

/*
 * A laravel-echo client (broadcaster "pusher") of the daemon d, on a
 * pusher-js client made as pusherFor makes it (echo.connector.pusher; its
 * states and errors are kept the same way).
 */
export function echoFor(d, opts = {}) {
	const app = opts.app || d.app;
	const echo = new Echo({ broadcaster: 'pusher', key: opts.key ||
	    app.key, Pusher, ...pusherOptions(d, opts) });
	watch(echo.connector.pusher);
	return echo;
}

// Disconnects p (a pusher-js client or an Echo), whatever its state.
export function disconnect(p) {
	const client = p.connector ? p.connector.pusher : p;
	client.disconnect();
	clients.delete(client);
}

// Disconnects every client given (nulls are skipped).
export function disconnectAll(list) {
	for (const p of list) {
		if (p)
			disconnect(p);
	}
}

// The Pusher error codes p reported, in order (pusher-js wraps some).
export function errorCodes(p) {
	return p.errors.map((e) => (e.data && e.data.code) ??
	    (e.error && e.error.data && e.error.data.code)).filter((c) =>
	    c !== undefined && c !== null);
}

// Resolves p's socket_id once it is connected.
export function connected(p, { timeout = 20000 } = {}) {
	return waitFor(() => p.connection.state === 'connected' &&
	    p.connection.socket_id, { timeout, interval: 20,
	    what: () => `pusher-js connected (state ${p.connection.state}, ` +
	    `errors ${JSON.stringify(p.errors)})` });
}

// Resolves once p's connection is in one of states (a list).
export function inState(p, states, { timeout = 20000 } = {}) {
	return waitFor(() => states.includes(p.connection.state),
	    { timeout, interval: 20, what: () => `pusher-js in ` +
	    `${states.join(' or ')} (state ${p.connection.state})` });
}

/*
 * Subscribes p to name and resolves {channel, ok, error}: ok after
 * pusher:subscription_succeeded, error (the data of
 * pusher:subscription_error) otherwise. Every event the channel emits is
 * kept in channel.log as {event, data, at} (at: Date.now() when it came;
 * pusher:* ones included), the others in channel.got as {event, data}.
 * (pusher-js gives the metadata of an event, its user_id, only to
 * callbacks bound to its name: see listen.)
 */
export function subscribe(p, name, { timeout = 20000 } = {}) {
	const channel = p.subscribe(name);
	record(channel);
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no answer ` +
		    `to the subscription of ${name} in ${timeout} ms`)),
		    timeout);
		channel.bind('pusher:subscription_succeeded', () => {
			clearTimeout(timer);
			resolve({ channel, ok: true });
		});
		channel.bind('pusher:subscription_error', (error) => {
			clearTimeout(timer);
			resolve({ channel, ok: false, error });
		});
	});
}

// Subscribes and throws unless the subscription succeeded: the channel.
export async function mustSubscribe(p, name, opts) {
	const r = await subscribe(p, name, opts);
	if (!r.ok) {
		throw new Error(`subscribing to ${name}: ` +
		    JSON.stringify(r.error));
	}
	return r.channel;
}

// Keeps what channel (a pusher-js channel) emits in channel.log and
// channel.got (see subscribe); once per channel.
export function record(channel) {
	if (channel.log)
		return channel;
	channel.log = [];
	channel.got = [];
	channel.bind_global((event, data) => {
		channel.log.push({ event, data, at: Date.now() });
		if (!event.startsWith('pusher:'))
			channel.got.push({ event, data });
	});
	return channel;
}

// The events named event that channel gets from now on, as {data,
// metadata} (metadata.user_id: the sender of a client event on a presence
// channel), in a list that fills as they come.
export function listen(channel, event) {
	const heard = [];
	channel.bind(event, (data, metadata) => heard.push({ data, metadata }));
	return heard;
}

// Waits until channel got n events (not pusher:*); returns them. The
// error says what came meanwhile.
export function received(channel, n, { timeout = 20000 } = {}) {
	return waitFor(() => channel.got.length >= n && channel.got,
	    { timeout, interval: 20, what: () => `${n} events on ` +
	    `${channel.name} (got ${JSON.stringify(channel.log)})` });
}

// Waits until channel's log has an event named event (that pred accepts,
// if given); returns it.
export function emitted(channel, event, { pred = () => true, timeout =
    20000 } = {}) {
	return waitFor(() => channel.log.find((e) => e.event === event &&
	    pred(e)), { timeout, interval: 20, what: () => `${event} on ` +
	    `${channel.name} (got ${JSON.stringify(channel.log)})` });
}

// The members of a pusher-js presence channel as {id: info}, and its me.
export function membersOf(channel) {
	const hash = {};
	channel.members.each((m) => {
		hash[m.id] = m.info;
	});
	return { hash, count: channel.members.count, me: channel.members.me };
}
