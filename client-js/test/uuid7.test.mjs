// UUIDv7: the format (version 7, RFC variant), the time in the first 48
// bits, and the order: ids sort as text in the order they were made, within
// one ms, across ms, when the clock goes back, and past 4096 ids in one ms.
// The ids of a process never go down, so the tests go forward in time (and
// stay before now).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Sluice, uuid7 } from '../src/index.js';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// The ms in an id's first 48 bits.
function timeOf(id) {
	return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

function assertSorted(list) {
	for (let i = 1; i < list.length; i++) {
		assert.ok(list[i - 1] < list[i], `id ${i} (${list[i]}) is not ` +
		    `above id ${i - 1} (${list[i - 1]})`);
	}
}

test('format: version 7, variant 10, the time in the first 48 bits', () => {
	const base = Date.UTC(2020, 0, 1);
	for (let i = 0; i < 200; i++) {
		const t = base + i * 7919;
		const id = uuid7(t);
		assert.match(id, UUID7);
		assert.equal(timeOf(id), t);
	}
});

test('ids are unique and ordered within one ms and across ms', () => {
	const t = Date.UTC(2021, 5, 1);
	const list = [];
	for (let ms = 0; ms < 5; ms++) {
		for (let i = 0; i < 1000; i++)
			list.push(uuid7(t + ms));
	}
	assertSorted(list);
	assert.equal(new Set(list).size, list.length);
	// Random bits differ: the ids of one ms are not a plain count.
	const tails = new Set(list.map((id) => id.slice(-12)));
	assert.equal(tails.size, list.length);
});

test('a clock that goes back does not break the order', () => {
	const t = Date.UTC(2022, 0, 1);
	const list = [uuid7(t), uuid7(t - 5000), uuid7(t - 1), uuid7(t),
	    uuid7(t + 1)];
	assertSorted(list);
	assert.equal(timeOf(list[1]), t);
	assert.equal(timeOf(list[4]), t + 1);
});

test('more than 4096 ids in one ms move the time on, still ordered',
    () => {
	const t = Date.UTC(2023, 0, 1);
	const list = [];
	for (let i = 0; i < 10000; i++)
		list.push(uuid7(t));
	assertSorted(list);
	assert.match(list.at(-1), UUID7);
	assert.ok(timeOf(list.at(-1)) > t && timeOf(list.at(-1)) <= t + 5);
});

test('events get ids of now, in the order they are tracked', async () => {
	assert.match(Sluice.uuid7(), UUID7);
	assert.ok(Math.abs(timeOf(uuid7()) - Date.now()) < 1000);
	const events = [];
	const c = new Sluice({ key: 'k', storage: null, window: {},
	    fetch: null, closeTimeout: 0 });
	const t0 = Date.now();
	for (let i = 0; i < 300; i++)
		events.push(c.track('e').catch(() => {}));
	const list = c._queue.map((x) => x._event.id);
	assert.equal(list.length, 300);
	assertSorted(list);
	assert.ok(timeOf(list[0]) >= t0 - 1);
	await c.close();
});
