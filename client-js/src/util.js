// util.js: what every part of the client shares: the event emitter behind
// on('state' | 'error' | 'drop'), the errors it reports, and the UTF-8 size
// of a text (what the server's byte limits count). Single-threaded, like
// the page that runs it.

const encoder = new TextEncoder();

// Bytes of text as UTF-8.
export function utf8(text) {
	return encoder.encode(text).length;
}

// An Error with a code (a server's error code, or one of the client's) and
// any more fields given (status, channel, events, ...).
export function error(code, message, more) {
	return Object.assign(new Error(message || String(code)), { code }, more);
}

// Calls a function of the application: what it throws is thrown again in a
// task of its own, so that it is seen but never breaks the client.
export function call(callback, ...args) {
	try {
		callback(...args);
	} catch (err) {
		setTimeout(() => {
			throw err;
		});
	}
}

export class Emitter {
	// Listeners: a Set of functions by event name.
	constructor() {
		this._listeners = {};
	}

	// Calls listener(...args) on every _emit(name, ...args); returns a
	// function that removes it again.
	on(name, listener) {
		const listeners = this._listeners[name] ||= new Set();
		listeners.add(listener);
		return () => listeners.delete(listener);
	}

	// Calls the listeners of name; one that throws does not stop the rest.
	_emit(name, ...args) {
		for (const listener of this._listeners[name] || [])
			call(listener, ...args);
	}
}
