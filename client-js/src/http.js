// http.js: the HTTP side: a batch as POST /v1/events with fetch (keepalive,
// so it outlives the page, within the browser's 64 KB budget), and the
// queue handed to navigator.sendBeacon in chunks when the page goes away.
// Both send text/plain with the key in the query: a "simple" request, no
// CORS preflight. Single-threaded.

import { utf8 } from './util.js';

const KEEPALIVE_BYTES = 65536;	// what a page may have in flight with keepalive

// The URL events are posted to.
export function eventsUrl(options) {
	return `${options.httpUrl}/v1/events?key=` +
	    encodeURIComponent(options.key);
}

// POSTs the events of batch (as sent: body) and hands the outcome to
// client._posted(batch, status, reply, Retry-After); status 0: no answer.
export async function post(client, batch, body) {
	const options = client._options;
	const text = JSON.stringify(body);
	const bytes = utf8(text);
	const keepalive = client._keepaliveBytes + bytes <= KEEPALIVE_BYTES;
	let status = 0;
	let reply = {};
	let retryAfter = null;

	if (keepalive)
		client._keepaliveBytes += bytes;
	try {
		const response = await client._fetch(eventsUrl(options), {
			method: 'POST',
			body: text,
			keepalive,
			headers: { 'Content-Type': 'text/plain' },
			signal: AbortSignal.timeout &&
			    AbortSignal.timeout(options.ackTimeout),
		});
		status = response.status;
		retryAfter = response.headers.get('Retry-After');
		reply = await response.json().catch(() => ({}));
	} catch {
		// no answer: retried
	}
	if (keepalive)
		client._keepaliveBytes -= bytes;
	client._posted(batch, status, reply || {}, retryAfter);
}

/*
 * Hands what is queued to sendBeacon, the events not yet sent first, in
 * chunks of at most beaconBytes. Beacons get no answer, so the events stay
 * queued (and go out again, with the same ids, if the page lives on or a
 * later page adopts them); an event goes in one beacon at most. Stops at
 * the first chunk the browser refuses (its budget is 64 KB in flight).
 * Nothing is sent when the browser knows it is offline.
 */
export function beacon(client) {
	const options = client._options;
	const send = client._sendBeacon;
	const beaconed = client._beaconed;
	const now = client._now();
	const chunks = [];
	let current;

	if (!send || options.httpUrl == null ||
	    client._navigator.onLine === false)
		return;
	const queued = new Set(client._queue.map((entry) => entry._event.id));
	for (const id of beaconed) {
		if (!queued.has(id))
			beaconed.delete(id);
	}
	const events = client._queue.map((entry) => entry._event)
	    .filter((event) => !beaconed.has(event.id));
	events.sort((left, right) => client._busy.has(left.id) -
	    client._busy.has(right.id));
	for (const event of events) {
		const text = JSON.stringify({ ...event, sent_at: now });
		const bytes = utf8(text) + 1;
		if (bytes + 2 > options.beaconBytes)
			continue;
		if (!current || current._bytes + bytes > options.beaconBytes)
			chunks.push(current = { _bytes: 2, _texts: [], _ids: [] });
		current._bytes += bytes;
		current._texts.push(text);
		current._ids.push(event.id);
	}
	for (const chunk of chunks) {
		if (!send(eventsUrl(options), `[${chunk._texts.join(',')}]`))
			break;
		for (const id of chunk._ids)
			beaconed.add(id);
	}
}
