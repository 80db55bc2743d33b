// channel.js: what join() returns: one application's hold on a channel.
// The subscription itself (its handlers, whether it succeeded, a presence
// channel's members and the user this connection is among them) is the
// link's, shared by every join and subscribe of the channel's name; a
// Channel reads it and lets go of its own handlers only. Single-threaded.

export class Channel {
	// The hold of client on subscription (the link's record of channel
	// name, or a record that is never subscribed when there is no link),
	// with handlers (see index.d.ts: ChannelHandlers).
	constructor(client, name, subscription, handlers) {
		this.name = name;
		this._client = client;
		this._subscription = subscription;
		this._handlers = handlers;
	}

	// Whether the server confirmed the subscription on this connection.
	get subscribed() {
		return this._subscription._subscribed;
	}

	// A presence channel's members: id -> {id, info}; empty otherwise and
	// while not subscribed.
	get members() {
		return this._subscription._members;
	}

	// The member this connection is on a presence channel, else null.
	get me() {
		return this._subscription._me;
	}

	// Sends a client event to the channel's other subscribers (see
	// Sluice.trigger).
	trigger(event, data) {
		return this._client.trigger(this.name, event, data);
	}

	// Removes this hold's handlers; the last one gone unsubscribes.
	leave() {
		const link = this._client._link;

		if (link)
			link._leave(this.name, this._subscription, this._handlers);
	}
}
