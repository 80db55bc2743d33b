// 15-journal-corrupt: a journal damaged on disk while sluiced is down. With
// the broker unreachable, events are acknowledged (so they wait in the
// journal); sluiced is SIGKILLed; one bit of one record is flipped in a
// segment file; sluiced is restarted with the real broker. Every
// acknowledged event but the one in the damaged record must reach the
// queue; the loss is counted (sluice_journal_corrupt_records_total), the
// damaged segment is kept in quarantine/, and /readyz says so until the
// file "corrupt" in the journal directory is removed.
//   - a bit in the middle of the newest segment (record 20 of 60): the 40
//     records after it used to be cut off as a "torn tail";
//   - a bit in the first record of the oldest of three 64K segments: the
//     whole segment used to be deleted (103 of 300 lost).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { closedPortUrl, post, waitFor } from '../lib/sluiced.mjs';
import {
	consumeAll, metric, readyz, tally, waitDrained,
} from '../fault/lib.mjs';

const { broker, start } = useSluiced(null);

// The segment files of a journal directory, oldest first.
function segments(dir) {
	return fs.readdirSync(dir).filter((n) => /^[0-9]{20}\.seg$/.test(n))
	    .sort().map((n) => path.join(dir, n));
}

// The frames of a segment file: [{seq, off, len, id}] (len: payload).
// A frame is [u32 len][u32 crc][u64 seq] little-endian, then the payload:
// u8 version 2, u8 type, u16 id length (big-endian), the id...
function frames(file) {
	const buf = fs.readFileSync(file);
	const out = [];
	for (let off = 0; off + 16 <= buf.length;) {
		const len = buf.readUInt32LE(off);
		const seq = Number(buf.readBigUInt64LE(off + 8));
		const p = off + 16;
		const idLen = buf.readUInt16BE(p + 2);
		const id = buf.toString('utf8', p + 4, p + 4 + idLen);
		out.push({ seq, off, len, id });
		off = p + len;
	}
	return out;
}

function flipBit(file, off, bit) {
	const fd = fs.openSync(file, 'r+');
	const b = Buffer.alloc(1);
	fs.readSync(fd, b, 0, 1, off);
	b[0] ^= 1 << bit;
	fs.writeSync(fd, b, 0, 1, off);
	fs.closeSync(fd);
}

// Posts n events (batches of 10) with the broker unreachable; returns
// their ids, every one acknowledged.
async function postAcked(d, n, pad) {
	const ids = [];
	for (let i = 0; i < n; i += 10) {
		const batch = [];
		for (let k = i; k < Math.min(n, i + 10); k++)
			batch.push({ id: randomUUID(), event: 'corrupt',
			    data: { i: k, pad: 'x'.repeat(pad) } });
		const r = await post(d.url, batch, { key: d.key });
		assert.equal(r.status, 202, r.text);
		ids.push(...batch.map((e) => e.id));
	}
	assert.equal(await metric(d, 'sluice_journal_unconfirmed_records'), n);
	return ids;
}

// Restarts d on its damaged journal with the real broker and checks what
// arrived: every acknowledged id but lostId, and how it is reported.
async function restartAndCheck(d, ids, lostId) {
	await d.restart({ amqpUrl: null });
	await waitDrained(d, { timeout: 30000 });
	const messages = await consumeAll(broker, d.names.queue,
	    ids.filter((id) => id !== lostId), { timeout: 30000, quiet: 500 });
	const r = tally({ acked: ids, messages });
	assert.deepEqual(r.lost, [lostId], `lost ${r.lost.length} of ` +
	    `${ids.length}; only the damaged record may be`);
	assert.equal(r.duplicated, 0);
	assert.deepEqual(r.malformed, []);

	assert.equal(await metric(d, 'sluice_journal_corrupt_records_total'),
	    1);
	assert.equal(await metric(d,
	    'sluice_journal_corruption_unacknowledged'), 1);
	assert.match(d.log(), /record [0-9]+ lost/);
	assert.equal(fs.readdirSync(path.join(d.journalDir, 'quarantine'))
	    .length, 1, 'the damaged segment is not kept in quarantine/');
	const marker = path.join(d.journalDir, 'corrupt');
	assert.match(fs.readFileSync(marker, 'utf8'), /lost; kept in quarantine/);
	const ready = await readyz(d);
	assert.equal(ready.status, 503);
	assert.match(ready.reason, /corrupt journal records/);

	// The operator acknowledges by removing the file.
	fs.unlinkSync(marker);
	await waitFor(async () => (await readyz(d)).status === 200,
	    { timeout: 10000, what: '/readyz 200 after the acknowledgement' });
	assert.equal(await metric(d,
	    'sluice_journal_corruption_unacknowledged'), 0);
	return r;
}

describe('a corrupt journal record loses that record only', () => {
	it('one bit flipped in record 20 of 60 in the newest segment',
	    { timeout: 90000 }, async () => {
		const d = await start({ name: 'corrupt-mid',
		    amqpUrl: await closedPortUrl(),
		    server: { shutdown_timeout: 1 } });
		const ids = await postAcked(d, 60, 64);
		await d.kill();
		const segs = segments(d.journalDir);
		assert.equal(segs.length, 1);
		const f = frames(segs[0]).find((x) => x.seq === 20);
		assert.ok(f, 'no record 20');
		// A bit in the middle of its payload (the envelope).
		flipBit(segs[0], f.off + 16 + Math.floor(f.len / 2), 4);
		await restartAndCheck(d, ids, f.id);
	});

	it('one bit flipped in the first record of the oldest of three ' +
	    'segments', { timeout: 90000 }, async () => {
		const d = await start({ name: 'corrupt-old',
		    amqpUrl: await closedPortUrl(),
		    journal: { segment_bytes: '64K' },
		    server: { shutdown_timeout: 1 } });
		const ids = await postAcked(d, 300, 200);
		await d.kill();
		const segs = segments(d.journalDir);
		assert.equal(segs.length, 3, `${segs.length} segments`);
		const f = frames(segs[0])[0];
		// A bit of its length field.
		flipBit(segs[0], f.off + 1, 2);
		await restartAndCheck(d, ids, f.id);
	});
});
