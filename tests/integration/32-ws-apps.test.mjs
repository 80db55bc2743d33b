// 32-ws-apps: apps as Pusher has them, with unmodified pusher-js 8 and the
// pusher server SDK: soketi's test app (key "app-key", secret
// "app-secret") is taken and works; pusher-js refused with 4003 by a
// disabled app (enabled = no) does not come back. (The 4003 on the wire
// and the 403 of a disabled app's events: see 25-ws-format.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { connected, disconnectAll, errorCodes, inState, mustSubscribe,
    pusherFor, received } from '../lib/pusher.mjs';
import { post, sleep, waitFor } from '../lib/sluiced.mjs';

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

	it('a disabled app: pusher-js gets 4003 and does not retry', {
	    timeout: 60000 }, async () => {
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
			assert.ok(p.states.filter((st) => st === 'connecting')
			    .length <= 1, `pusher-js retried: ${p.states}`);
		} finally {
			disconnectAll([p]);
		}
	});
});
