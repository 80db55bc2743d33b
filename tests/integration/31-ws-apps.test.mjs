// 31-ws-apps: apps as Pusher has them, with unmodified pusher-js 8 and the
// pusher server SDK: soketi's test app (key "app-key", secret
// "app-secret") is taken and works; a disabled app (enabled = no) has its
// connections refused with pusher:error 4003 and a 4003 close, which
// pusher-js does not retry, and its HTTP events refused with 403.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { connected, disconnectAll, errorCodes, inState, mustSubscribe,
    pusherFor, received } from '../lib/pusher.mjs';
import { post, sleep, waitFor } from '../lib/sluiced.mjs';
import { connectRefused } from '../lib/ws.mjs';

// soketi's test app: a short key and a short secret, as Pusher allows.
const SOKETI = { id: 'app-id', key: 'app-key', secret: 'app-secret',
    publish_channels: ['public-*', 'private-*'],
    public_channels: ['public-*'] };
const DISABLED = { id: 'disabled', key: 'disabled-key-0001',
    secret: 'disabled-secret-0123456789', publish_channels: ['events'],
    public_channels: ['events'], enabled: 'no' };

const { s } = useSluiced({ name: 'ws-apps', waitWs: true,
    apps: [SOKETI, DISABLED] });

describe('apps by Pusher\'s rules', () => {
	it('soketi\'s app-key and app-secret work', { timeout: 60000 },
	    async () => {
		const p = pusherFor(s, { app: SOKETI });
		try {
			await connected(p);
			const pub = await mustSubscribe(p, 'public-lobby');
			const priv = await mustSubscribe(p, 'private-lobby');
			const r = await post(s.url, [
				{ event: 'greeting', channel: 'public-lobby', data:
				    { message: 'hello' } },
				{ event: 'greeting', channel: 'private-lobby', data:
				    { message: 'psst' } },
			], { key: SOKETI.key });
			assert.equal(r.status, 202, r.text);
			const [a] = await received(pub, 1);
			const [b] = await received(priv, 1);
			assert.equal(a.data.message, 'hello');
			assert.equal(b.data.message, 'psst');
		} finally {
			disconnectAll([p]);
		}
	});

	it('a disabled app: 4003, not retried; its events refused', {
	    timeout: 60000 }, async () => {
		const refused = await connectRefused(s, { key: DISABLED.key });
		assert.equal(refused.httpStatus, null, 'the handshake itself ' +
		    'was refused');
		assert.ok(refused.error, 'no pusher:error before the close');
		assert.equal(refused.error.payload.code, 4003, refused.error.raw);
		assert.equal(refused.close.code, 4003,
		    JSON.stringify(refused.close));

		const p = pusherFor(s, { app: DISABLED });
		try {
			await waitFor(() => errorCodes(p).includes(4003),
			    { what: () => 'a 4003 for pusher-js (errors ' +
			    `${JSON.stringify(p.errors)})` });
			await inState(p, ['disconnected', 'failed']);
			// 4000s: pusher-js stays away.
			const states = p.states.length;
			await sleep(2000);
			assert.deepEqual(p.states.slice(states), []);
		} finally {
			disconnectAll([p]);
		}

		const r = await post(s.url, [{ event: 'x', channel: 'events' }],
		    { key: DISABLED.key });
		assert.equal(r.status, 403, r.text);
	});
});
