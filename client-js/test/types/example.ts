// An application's use of sluice-js, type-checked against index.d.ts by
// test/types.test.mjs (tsc --noEmit). The @ts-expect-error lines must be
// errors: they keep the declarations from being too loose.

import Sluice, { Sluice as Named, uuid7, type DropInfo, type Envelope,
    type SluiceError, type State } from 'sluice-js';

const memory = new Map<string, string>();
const storage = {
	get length() {
		return memory.size;
	},
	key: (i: number) => [...memory.keys()][i] ?? null,
	getItem: (k: string) => memory.get(k) ?? null,
	setItem: (k: string, v: string) => void memory.set(k, v),
	removeItem: (k: string) => void memory.delete(k),
};

const sluice: Named = new Sluice({
	key: 'demo-key-0001',
	wsUrl: 'ws://127.0.0.1:8081',
	httpUrl: '',
	channel: 'game-1',
	batchSize: 20,
	flushInterval: 250,
	maxQueue: 500,
	maxQueueBytes: 512 * 1024,
	storage,
	authorizer: async (socketId, channel) => {
		const r = await fetch('/auth', { method: 'POST',
		    body: JSON.stringify({ socketId, channel }) });
		return ((await r.json()) as { auth: string }).auth;
	},
});

async function main(): Promise<void> {
	const id: string = await sluice.track('click', { x: 1, y: 2 });
	await sluice.track('buy', undefined, { channel: 'events', id: uuid7() });
	await sluice.page({ section: 'shop' });
	sluice.identify('user-1', { plan: 'pro' });
	sluice.identify(null);
	const off = sluice.subscribe('game-1', (env: Envelope, name: string) => {
		const when: string = env.received_at;
		console.log(name, env.event, env.data, when, id);
	});
	off();
	sluice.on('state', (s: State, prev: State) => console.log(prev, '->', s));
	sluice.on('error', (e: SluiceError) => console.log(e.code, e.message,
	    e.status, e.events?.length));
	sluice.on('drop', (d: DropInfo) => console.log(d.reason, d.events.length));
	const n: number = sluice.queued + sluice.acked + sluice.dropped;
	console.log(n, sluice.state, Sluice.uuid7(Date.now()));
	await sluice.flush();
	await sluice.close();

	// @ts-expect-error an event needs a name
	sluice.track();
	// @ts-expect-error the key is required
	new Sluice({ wsUrl: 'ws://x' });
	// @ts-expect-error no such event
	sluice.on('message', () => {});
	// @ts-expect-error the id is a string
	const wrong: number = await sluice.track('x');
	// @ts-expect-error a state is one of the State names
	const s: State = 'open';
	// @ts-expect-error handlers get an Envelope
	sluice.subscribe('c', (env: number) => env);
	console.log(wrong, s);
}

main();
