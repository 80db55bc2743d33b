// Type declarations of sluice-js (written by hand; checked by
// test/types.test.mjs against test/types/example.ts).

/** The WebSocket's state, as reported by on('state'). */
export type State = 'connecting' | 'connected' | 'disconnected' | 'failed' |
    'closed';

/** An event as queued and sent (sent_at is added on each send). */
export interface TrackedEvent {
	id: string;
	event: string;
	channel?: string;
	data?: unknown;
	/** When it was tracked, ms since the epoch. */
	timestamp: number;
}

/** What sluiced makes of an event: delivered to subscribers (as sluiced
 * sends it to connections that ask for the envelope format). */
export interface Envelope {
	id: string;
	app: string;
	channel: string;
	event: string;
	data: unknown;
	received_at: string;
	timestamp: string;
	client_timestamp: string | number | null;
	client_sent_at: string | number | null;
	ip: string | null;
	user_agent: string | null;
	origin: string | null;
	source: 'http' | 'ws';
	[field: string]: unknown;
}

/** The error of a dropped event, a refused subscription, a failure. */
export interface SluiceError extends Error {
	/**
	 * The server's code (invalid_event_name, unauthorized, ...), a Pusher
	 * error code (4001, 4301, ...), or the client's own: queue_full,
	 * event_too_large, closed, storage, lock, subscription, auth, ws,
	 * http_STATUS, client_event (thrown by trigger()).
	 */
	code: string | number;
	/** The HTTP status, for an answer over HTTP. */
	status?: number;
	/** The events dropped with it. */
	events?: TrackedEvent[];
	/** For subscription and auth errors. */
	channel?: string;
	/** For subscription errors: AuthError, InvalidChannelData, ... */
	type?: string;
}

/** A user on a presence channel. */
export interface Member {
	/** The user_id of its channel_data, as a string. */
	id: string;
	/** Its user_info (undefined when it gave none). */
	info?: any;
}

/**
 * What the authorizer answers for a channel: the auth string, or for a
 * presence- channel {auth, channel_data}, channel_data being the JSON text
 * {"user_id": ..., "user_info": ...} exactly as it was signed (the
 * `pusher` server SDK's authorizeChannel(socketId, channel, presenceData)
 * answers this).
 */
export type Authorization = string | { auth: string; channel_data?: string };

/** The handlers of join(), each optional. */
export interface ChannelHandlers {
	/**
	 * An event of the channel from sluiced but a client event: its
	 * envelope (or {channel, event, data} for one sluiced has no envelope
	 * for) and name.
	 */
	event?: (envelope: Envelope, name: string) => void;
	/**
	 * A client event (client-*) of another subscriber: its data as sent,
	 * its name, and on a presence channel the member who sent it (null on
	 * a private channel).
	 */
	client?: (data: any, name: string, member: Member | null) => void;
	/**
	 * The subscription succeeded (again after each reconnect): a
	 * presence channel's members, this connection's user among them
	 * (empty for other channels).
	 */
	subscribed?: (members: ReadonlyMap<string, Member>) => void;
	/** A user joined the presence channel (its first connection). */
	member_added?: (member: Member) => void;
	/** A user left it (its last connection). */
	member_removed?: (member: Member) => void;
}

/** A channel joined with join(). */
export interface Channel {
	readonly name: string;
	/** Whether the server confirmed the subscription on this connection. */
	readonly subscribed: boolean;
	/**
	 * A presence channel's members by id, kept up to date; empty while
	 * not subscribed (the list comes anew after a reconnect).
	 */
	readonly members: ReadonlyMap<string, Member>;
	/** This connection's member on a presence channel, else null. */
	readonly me: Member | null;
	/** trigger(this.name, event, data). */
	trigger(event: string, data?: unknown): boolean;
	/** Removes this join's handlers; the last one unsubscribes. */
	leave(): void;
}

export interface DropInfo {
	/** queue_full, or the code of the error that dropped them. */
	reason: string | number;
	message: string;
	events: TrackedEvent[];
}

/** The Web Storage methods the queue uses (localStorage has them). */
export interface StorageLike {
	readonly length: number;
	key(index: number): string | null;
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
	removeItem(key: string): void;
}

/** The Web Locks methods used (navigator.locks has them). */
export interface LocksLike {
	request<T>(name: string, callback: (lock: unknown) => T): Promise<unknown>;
	request<T>(name: string, options: { ifAvailable?: boolean },
	    callback: (lock: unknown) => T): Promise<unknown>;
}

/** A WebSocket class: the browser's, or the ws package's. */
export interface WebSocketClass {
	new (url: string): {
		readonly readyState: number;
		send(data: string): void;
		close(code?: number, reason?: string): void;
		onmessage: ((ev: { data: any }) => void) | null;
		onclose: ((ev: { code: number }) => void) | null;
		onerror: ((ev: any) => void) | null;
	};
}

export interface SluiceOptions {
	/** The app key. */
	key: string;
	/** ws://host:port of sluiced's WebSocket; none: HTTP only. */
	wsUrl?: string;
	/** http://host:port of sluiced's HTTP API ('' for the page's own). */
	httpUrl?: string;
	/** The channel of events tracked without one (else the app's). */
	channel?: string;
	/** Events in one batch at most. Default 50. */
	batchSize?: number;
	/** Bytes in one batch at most. Default 60000. */
	batchBytes?: number;
	/** Ms a partial batch waits for more events. Default 1000. */
	flushInterval?: number;
	/** Events queued at most; the oldest are dropped. Default 1000. */
	maxQueue?: number;
	/** Bytes (of JSON) queued at most. Default 1 MiB. */
	maxQueueBytes?: number;
	/** Batches waiting for their answer at once. Default 4. */
	maxInflight?: number;
	/** Ms to wait for an answer before sending again. Default 10000. */
	ackTimeout?: number;
	/** Ms for a WebSocket to be established. Default 5000. */
	connectTimeout?: number;
	/** Failed WebSocket attempts in a row before HTTP. Default 2. */
	wsFailures?: number;
	/** Reconnect backoff, first and longest, ms. Default 500, 30000. */
	reconnectMin?: number;
	reconnectMax?: number;
	/** Ms of silence before a ping (or the server's, if shorter). */
	activityTimeout?: number;
	/** Ms for the pong. Default 30000. */
	pongTimeout?: number;
	/** S to wait when told to retry without a time. Default 5. */
	retryAfter?: number;
	/** Ms between looks for queues left by other pages. Default 10000. */
	scanInterval?: number;
	/** Without Web Locks: ms a lease lasts. Default 30000. */
	leaseTtl?: number;
	/** Without Web Locks: ms a claim must stand. Default 300. */
	claimDelay?: number;
	/** Bytes of one beacon at most (under 64 KB). Default 60000. */
	beaconBytes?: number;
	/** Ms close() waits for acknowledgements. Default 3000. */
	closeTimeout?: number;
	/** Storage key prefix. Default "sluice:" + key. */
	prefix?: string;
	/**
	 * Auth of a private- or presence- channel for socketId (from the app's
	 * backend), asked again for each new connection.
	 */
	authorizer?: (socketId: string, channel: string) =>
	    Authorization | Promise<Authorization>;
	/** The queue's storage; default localStorage; null: memory only. */
	storage?: StorageLike | null;
	/** Default navigator.locks; null: the lease in storage. */
	locks?: LocksLike | null;
	/** Default globalThis.WebSocket. */
	WebSocket?: WebSocketClass;
	/** Default globalThis.fetch. */
	fetch?: (url: string, init: {
		method: string;
		body: string;
		keepalive: boolean;
		headers: Record<string, string>;
		signal?: AbortSignal;
	}) => Promise<{
		status: number;
		headers: { get(name: string): string | null };
		json(): Promise<any>;
	}>;
	/** Default navigator.sendBeacon. */
	sendBeacon?: (url: string, body: string) => boolean;
	/** Where location, document, navigator and pagehide come from. */
	window?: object;
	/** Clock and timers (for tests). */
	now?: () => number;
	setTimeout?: (fn: () => void, ms: number) => unknown;
	clearTimeout?: (handle: any) => void;
	random?: () => number;
}

export interface TrackOptions {
	/** The event's channel (default: the client's channel). */
	channel?: string;
	/** The event's id (default: a new UUIDv7); the dedupe key. */
	id?: string;
}

export class Sluice {
	constructor(options: SluiceOptions);

	/** The WebSocket's state. */
	readonly state: State;
	/** Events queued (not yet acknowledged). */
	readonly queued: number;
	/** Events acknowledged by this instance. */
	readonly acked: number;
	/** Events dropped by this instance. */
	readonly dropped: number;
	/** The identity attached to events, if any. */
	readonly user: { id: string; traits?: Record<string, unknown> } | null;

	/**
	 * Queues an event. Resolves with its id once the gateway acknowledged
	 * it; rejects with a SluiceError when it is dropped.
	 */
	track(event: string, data?: unknown, options?: TrackOptions):
	    Promise<string>;
	/** Tracks a page_view: url, path, referrer, title, and data. */
	page(data?: Record<string, unknown>, options?: TrackOptions):
	    Promise<string>;
	/** Attaches {id, traits} as data.user to later events (persisted). */
	identify(userId: string | null, traits?: Record<string, unknown>): void;
	/**
	 * Calls handler for every event of channel with its envelope (while
	 * it has subscribers, the client asks sluiced for envelopes rather
	 * than the data alone, which Pusher clients get); returns
	 * unsubscribe. An event sluiced has no envelope for (a client event
	 * delivered live) comes as {channel, event, data} only.
	 */
	subscribe(channel: string,
	    handler: (envelope: Envelope, event: string) => void): () => void;
	/**
	 * Subscribes to channel (again after every reconnect; private- and
	 * presence- ones with the authorizer) with handlers; the Channel shows
	 * a presence channel's members.
	 */
	join(channel: string, handlers?: ChannelHandlers): Channel;
	/**
	 * Sends client event (a name starting with client-) with data to the
	 * other subscribers of channel, a private- or presence- channel (not
	 * private-encrypted-) joined here. Throws a SluiceError of code
	 * client_event for another name or channel; false when it cannot be
	 * sent now (not connected, not yet subscribed): such events are live
	 * only and never queued.
	 */
	trigger(channel: string, event: string, data?: unknown): boolean;
	/** Sends what is queued; resolves once it is acknowledged or dropped. */
	flush(): Promise<void>;
	/** Flushes (closeTimeout at most) and stops; the rest stays stored. */
	close(): Promise<void>;

	on(name: 'state', fn: (state: State, prev: State) => void): () => void;
	on(name: 'error', fn: (error: SluiceError) => void): () => void;
	on(name: 'drop', fn: (info: DropInfo) => void): () => void;

	/** A new UUIDv7 (for the time ms, default now). */
	static uuid7(ms?: number): string;
}

/** A new UUIDv7 (for the time ms, default now). */
export function uuid7(ms?: number): string;

export default Sluice;
