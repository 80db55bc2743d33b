// http.js: the HTTP side: a batch as POST /v1/events with fetch (keepalive,
// so it outlives the page, within the browser's 64 KB budget), and the
// queue handed to navigator.sendBeacon in chunks when the page goes away.
// Both send text/plain with the key in the query: a "simple" request, no
// CORS preflight. Single-threaded.

import { utf8 } from './util.js';

const KEEPALIVE_BYTES = 65536;	// what a page may have in flight with keepalive

// The URL events are posted to.
export function eventsUrl(o) {
	return `${o.httpUrl}/v1/events?key=${encodeURIComponent(o.key)}`;
}

// POSTs the events of batch b (as sent: body) and hands the outcome to
// c.posted(b, status, reply, Retry-After); status 0: no answer.
export async function post(c, b, body) {
	const text = JSON.stringify(body);
	const n = utf8(text);
	const keepalive = c.keepalive + n <= KEEPALIVE_BYTES;
	let status = 0;
	let reply = {};
	let retry = null;

	if (keepalive)
		c.keepalive += n;
	try {
		const r = await c.fetch(eventsUrl(c.o), {
			method: 'POST',
			body: text,
			keepalive,
			headers: { 'Content-Type': 'text/plain' },
			signal: AbortSignal.timeout &&
			    AbortSignal.timeout(c.o.ackTimeout),
		});
		status = r.status;
		retry = r.headers.get('Retry-After');
		reply = await r.json().catch(() => ({}));
	} catch {
		// no answer: retried
	}
	if (keepalive)
		c.keepalive -= n;
	c.posted(b, status, reply || {}, retry);
}

/*
 * Hands what is queued to sendBeacon, the events not yet sent first, in
 * chunks of at most beaconBytes. Beacons get no answer, so the events stay
 * queued (and go out again, with the same ids, if the page lives on or a
 * later page adopts them); an event goes in one beacon at most. Stops at
 * the first chunk the browser refuses (its budget is 64 KB in flight).
 * Nothing is sent when the browser knows it is offline.
 */
export function beacon(c) {
	const o = c.o;
	const send = c.sendBeacon;
	const now = c.now();
	const chunks = [];
	let chunk;

	if (!send || o.httpUrl == null || c.nav.onLine === false)
		return;
	const queued = new Set(c.q.map((x) => x.e.id));
	for (const id of c.beaconed) {
		if (!queued.has(id))
			c.beaconed.delete(id);
	}
	const xs = c.q.filter((x) => !c.beaconed.has(x.e.id));
	xs.sort((a, b) => c.busy.has(a.e.id) - c.busy.has(b.e.id));
	for (const x of xs) {
		const text = JSON.stringify({ ...x.e, sent_at: now });
		const n = utf8(text) + 1;
		if (n + 2 > o.beaconBytes)
			continue;
		if (!chunk || chunk.n + n > o.beaconBytes)
			chunks.push(chunk = { n: 2, texts: [], ids: [] });
		chunk.n += n;
		chunk.texts.push(text);
		chunk.ids.push(x.e.id);
	}
	for (const ch of chunks) {
		if (!send(eventsUrl(o), `[${ch.texts.join(',')}]`))
			break;
		for (const id of ch.ids)
			c.beaconed.add(id);
	}
}
