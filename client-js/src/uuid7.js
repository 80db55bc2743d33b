// uuid7.js: event ids, UUID version 7 (RFC 9562): 48 bits of Unix time in
// ms, the version, 12 bits counting the ids made within one ms (started at
// a random value below 0x800), the variant and 62 random bits. The state is
// the module's, shared by every client of the page, so that the ids of a
// page sort (as text) in the order they were made, even when the clock
// stands still or steps back.

let last = -1;	// the time in the latest id, ms
let count = 0;	// the counter of the latest id

// value as width hex digits.
function hex(value, width) {
	return value.toString(16).padStart(width, '0');
}

// A new id for the time ms (default: now). Never lower than the previous
// id: a clock that went back reuses the latest time, and a counter that
// overflows moves the time on by 1 ms.
export function uuid7(ms = Date.now()) {
	const random = crypto.getRandomValues(new Uint8Array(10));

	if (ms > last) {
		last = ms;
		count = (random[8] << 3 | random[9] >> 5) & 0x7ff;
	} else if (++count > 0xfff) {
		last++;
		count = 0;
	}
	let digits = hex(last, 12) + '7' + hex(count, 3) +
	    hex(random[0] & 0x3f | 0x80, 2);
	for (let i = 1; i < 8; i++)
		digits += hex(random[i], 2);
	return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-` +
	    `${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}
