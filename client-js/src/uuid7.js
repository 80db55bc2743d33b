// uuid7.js: event ids, UUID version 7 (RFC 9562): 48 bits of Unix time in
// ms, the version, 12 bits counting the ids made within one ms (started at
// a random value below 0x800), the variant and 62 random bits. The state is
// the module's, shared by every client of the page, so that the ids of a
// page sort (as text) in the order they were made, even when the clock
// stands still or steps back.

let last = -1;	// the time in the latest id, ms
let count = 0;	// the counter of the latest id

function hex(n, width) {
	return n.toString(16).padStart(width, '0');
}

// A new id for the time ms (default: now). Never lower than the previous
// id: a clock that went back reuses the latest time, and a counter that
// overflows moves the time on by 1 ms.
export function uuid7(ms = Date.now()) {
	const r = crypto.getRandomValues(new Uint8Array(10));

	if (ms > last) {
		last = ms;
		count = (r[8] << 3 | r[9] >> 5) & 0x7ff;
	} else if (++count > 0xfff) {
		last++;
		count = 0;
	}
	let h = hex(last, 12) + '7' + hex(count, 3) + hex(r[0] & 0x3f | 0x80,
	    2);
	for (let i = 1; i < 8; i++)
		h += hex(r[i], 2);
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-` +
	    `${h.slice(16, 20)}-${h.slice(20)}`;
}
