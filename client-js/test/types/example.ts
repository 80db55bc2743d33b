// An application's use of sluice-js, type-checked against index.d.ts by
// test/types.test.mjs (tsc --noEmit). The @ts-expect-error lines must be
// errors: they keep the declarations from being too loose.

import Sluice, { Sluice as Named, uuid7, type Channel, type DropInfo,
    type Envelope, type Member, type SluiceError, type State } from
    'sluice-js';

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

	const arena: Channel = sluice.join('presence-arena', {
		subscribed: (members) => console.log(members.size),
		member_added: (member: Member) => console.log(member.id,
		    member.info?.name),
		member_removed: ({ id }) => console.log(id),
		client: (data, name, member) => console.log(name, data.x,
		    member?.id),
		event: (env, name) => console.log(name, env.received_at),
	});
	const people: Member[] = [...arena.members.values()];
	const me: string | undefined = arena.me?.id;
	const sent: boolean = sluice.trigger('presence-arena', 'client-move',
	    { x: 1, y: 2 }) && arena.trigger('client-move', { x: 3 });
	console.log(people, me, sent, arena.name, arena.subscribed);
	arena.leave();
	sluice.join('game-1');
	new Sluice({ key: 'k', authorizer: (socketId, channel) => ({
		auth: `k:${socketId}${channel}`,
		channel_data: JSON.stringify({ user_id: 'u1' }),
	}) });

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
	// @ts-expect-error no such handler
	sluice.join('presence-x', { joined: () => {} });
	// @ts-expect-error a member's id is a string
	sluice.join('presence-x', { member_added: (m: { id: number }) => m });
	// @ts-expect-error the members cannot be changed
	arena.members.set('x', { id: 'x' });
	// @ts-expect-error channel_data is JSON text
	new Sluice({ key: 'k', authorizer: () => ({ auth: 'a', channel_data:
	    { user_id: 1 } }) });
	console.log(wrong, s);
}

main();
