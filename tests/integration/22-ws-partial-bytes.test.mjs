// 22-ws-partial-bytes: the bytes of WebSocket messages still arriving in
// pieces are bounded over every connection (websocket.max_partial_bytes).
// Four connections each holding a 10 KB partial message fill a 64K bound
// (16K buffers); the next one to need room is closed with 4100 and a
// pusher:error saying why, the gauge and the counter show it, and once a
// message completes its room is free for others.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { metrics, waitFor } from '../lib/sluiced.mjs';
import { closeAll, connect } from '../lib/ws.mjs';

const { s } = useSluiced({ name: 'ws-partial', waitWs: true,
    websocket: { max_message_bytes: '16K', max_partial_bytes: '64K' } });

const HEAD = '{"event":"pusher:ping","data":{"pad":"';
const PAD = 'x'.repeat(10000);
const TAIL = '"}}';

async function gauge() {
	return (await metrics(s)).get('sluice_ws_partial_bytes');
}

describe('partial WebSocket messages', () => {
	it('are bounded over every connection', async () => {
		const c = [];
		for (let i = 0; i < 6; i++)
			c.push(await connect(s));
		try {
			for (let i = 0; i < 4; i++)
				await c[i].send(HEAD + PAD, { fin: false });
			await waitFor(async () => await gauge() === 65536,
			    { timeout: 5000, what: 'the gauge at 64K' });
			const before = await metrics(s);
			await c[4].send(HEAD + PAD, { fin: false });
			const err = await c[4].next('pusher:error');
			assert.equal(err.data.code, 4100, err.raw);
			assert.match(err.data.message, /over capacity.*65536/);
			const closed = await c[4].waitClose();
			assert.equal(closed.code, 4100);
			const m = await metrics(s);
			assert.equal(m.get('sluice_ws_partial_overflow_closes_total'),
			    1);
			assert.equal(m.get('sluice_ws_closes_total{code="4100"}') -
			    before.get('sluice_ws_closes_total{code="4100"}'), 1);
			assert.equal(m.get('sluice_ws_partial_bytes'), 65536);
			// The others are whole: their messages complete.
			await c[0].send(TAIL, { fin: true });
			await c[0].next('pusher:pong');
			assert.equal(await gauge(), 49152);
			// The room freed is there for another.
			await c[5].send(HEAD + PAD, { fin: false });
			await waitFor(async () => await gauge() === 65536,
			    { timeout: 5000, what: 'the gauge at 64K again' });
			await c[5].send(TAIL, { fin: true });
			await c[5].next('pusher:pong');
			assert.ok(c[5].isOpen);
		} finally {
			await closeAll(c);
		}
		await waitFor(async () => await gauge() === 0,
		    { timeout: 5000, what: 'the gauge back at 0' });
	});
});
