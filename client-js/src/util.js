// util.js: what every part of the client shares: the event emitter behind
// on('state' | 'error' | 'drop'), the errors it reports, and the UTF-8 size
// of a text (what the server's byte limits count). Single-threaded, like
// the page that runs it.

const encoder = new TextEncoder();

// Bytes of s as UTF-8.
export function utf8(s) {
	return encoder.encode(s).length;
}

// An Error with a code (a server's error code, or one of the client's) and
// any more fields given (status, channel, events, ...).
export function error(code, message, more) {
	return Object.assign(new Error(message || String(code)), { code }, more);
}

// Calls a function of the application: what it throws is thrown again in a
// task of its own, so that it is seen but never breaks the client.
export function call(fn, ...args) {
	try {
		fn(...args);
	} catch (e) {
		setTimeout(() => {
			throw e;
		});
	}
}

export class Emitter {
	// Listeners: a Set of functions by event name.
	constructor() {
		this.listeners = {};
	}

	// Calls fn(...args) on every emit(name, ...args); returns a function
	// that removes it again.
	on(name, fn) {
		const set = this.listeners[name] ||= new Set();
		set.add(fn);
		return () => set.delete(fn);
	}

	// Calls the listeners of name; one that throws does not stop the rest.
	emit(name, ...args) {
		for (const fn of this.listeners[name] || [])
			call(fn, ...args);
	}
}
