// 04-gzip-cors: gzip bodies, text/plain bodies (navigator.sendBeacon), and
// CORS: preflights and the headers on replies.

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import { TEST_APP, post, request } from '../lib/sluiced.mjs';

const ALLOWED = 'https://allowed.example';
const OPEN_APP = {
	id: 'open',
	key: 'open-key-0001',
	secret: 'open-secret-0123456789',
	origins: '*',
	default_channel: 'public',
};
const NO_ORIGIN_APP = {
	id: 'server_side',
	key: 'server-key-0001',
	secret: 'server-secret-0123456789',
	default_channel: 'backend',
};

const { s, broker } = useSluiced({ name: 'gzipcors', waitReady: true,
    apps: [TEST_APP, OPEN_APP, NO_ORIGIN_APP] }, { purgeEach: ['queue'] });

describe('gzip', () => {
	it('a gzipped body is inflated and accepted', async () => {
		const events = Array.from({ length: 50 }, (_, i) => ({
		    event: 'zipped', data: { i, text: 'compressible '.repeat(20) } }));
		const r = await post(s.url, events, { key: s.key, gzip: true });
		assert.equal(r.status, 202, r.text);
		assert.equal(r.json.accepted, 50);
		const got = await broker.collectIds(s.names.queue, r.json.ids,
		    { timeout: 10000 });
		assert.deepEqual(got.missing, []);
		const m = got.messages.get(r.json.ids[7]);
		assert.deepEqual(m.body.data, { i: 7,
		    text: 'compressible '.repeat(20) });
	});

	it('x-gzip is gzip too', async () => {
		const body = zlib.gzipSync(JSON.stringify({ event: 'xg' }));
		const r = await post(s.url, body, { key: s.key,
		    headers: { 'Content-Encoding': 'x-gzip' } });
		assert.equal(r.status, 202, r.text);
		await broker.collect(s.names.queue, 1);
	});

	it('"identity" is no encoding', async () => {
		const r = await post(s.url, { event: 'plain' }, { key: s.key,
		    headers: { 'Content-Encoding': 'identity' } });
		assert.equal(r.status, 202, r.text);
		await broker.collect(s.names.queue, 1);
	});

	it('a body that is not gzip: 400', async () => {
		const r = await post(s.url, '{"event":"not zipped"}', {
		    key: s.key, headers: { 'Content-Encoding': 'gzip' } });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_gzip');
		assert.equal(typeof r.json.message, 'string');
	});

	it('a truncated gzip body: 400', async () => {
		const whole = zlib.gzipSync(JSON.stringify({ event: 'cut',
		    data: 'x'.repeat(1000) }));
		const r = await post(s.url, whole.subarray(0, whole.length - 10), {
		    key: s.key, headers: { 'Content-Encoding': 'gzip' } });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'invalid_gzip');
	});
});

describe('text/plain (sendBeacon)', () => {
	it('a text/plain body with ?key= is accepted', async () => {
		// What navigator.sendBeacon sends: a string body, no custom
		// headers, the key in the URL.
		const r = await post(`${s.url}?key=${s.key}`,
		    JSON.stringify({ event: 'beacon', data: { leaving: true } }), {
		    contentType: 'text/plain;charset=UTF-8',
		    headers: { Origin: ALLOWED } });
		assert.equal(r.status, 202, r.text);
		assert.equal(r.headers['access-control-allow-origin'], ALLOWED);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.id, r.json.ids[0]);
		assert.deepEqual(m.body.data, { leaving: true });
		assert.equal(m.body.origin, ALLOWED);
	});
});

describe('CORS preflight', () => {
	function preflight(origin, query = '', extra = {}) {
		const headers = { 'Access-Control-Request-Method': 'POST',
		    'Access-Control-Request-Headers': 'content-type,x-sluice-key',
		    ...extra };
		if (origin)
			headers.Origin = origin;
		return request('OPTIONS', `${s.url}${query}`, { headers });
	}

	function assertAllowed(r, origin) {
		assert.equal(r.status, 204, r.text);
		assert.equal(r.headers['access-control-allow-origin'], origin);
		const methods = r.headers['access-control-allow-methods'] || '';
		assert.match(methods, /\bPOST\b/);
		const hdrs = (r.headers['access-control-allow-headers'] || '')
		    .toLowerCase();
		assert.match(hdrs, /\bcontent-type\b/);
		assert.match(hdrs, /\bx-sluice-key\b/);
		assert.match(r.headers.vary || '', /\bOrigin\b/i);
		assert.match(r.headers['access-control-max-age'] || '', /^\d+$/);
		assert.equal(r.text, '');
	}

	it('an allowed origin gets 204 with the CORS headers', async () => {
		assertAllowed(await preflight(ALLOWED), ALLOWED);
	});

	it('an allowed origin with the app key in ?key= gets 204', async () => {
		assertAllowed(await preflight('http://localhost:3000',
		    `?key=${s.key}`), 'http://localhost:3000');
	});

	it('an app allowing "*" accepts any origin', async () => {
		const origin = 'https://anything.example:8443';
		assertAllowed(await preflight(origin, `?key=${OPEN_APP.key}`),
		    origin);
		// Without a key, some app allows it.
		assertAllowed(await preflight(origin), origin);
	});

	it('an origin the keyed app does not allow gets 403', async () => {
		const r = await preflight('https://evil.example', `?key=${s.key}`);
		assert.equal(r.status, 403);
		assert.equal(r.json.error, 'origin_not_allowed');
		assert.equal(r.headers['access-control-allow-origin'], undefined);
	});

	it('an app without origins allows no browser', async () => {
		const r = await preflight(ALLOWED, `?key=${NO_ORIGIN_APP.key}`);
		assert.equal(r.status, 403);
		assert.equal(r.json.error, 'origin_not_allowed');
	});

	it('an unknown key gets 403', async () => {
		const r = await preflight(ALLOWED, '?key=unknown-key-1');
		assert.equal(r.status, 403);
		assert.equal(r.headers['access-control-allow-origin'], undefined);
	});

	it('a preflight without Origin is a bad request', async () => {
		const r = await preflight(null);
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'missing_origin');
	});
});

describe('CORS on POST', () => {
	it('an accepted POST from an allowed origin has the headers', async () => {
		const r = await post(s.url, { event: 'cors' }, { key: s.key,
		    headers: { Origin: ALLOWED } });
		assert.equal(r.status, 202);
		assert.equal(r.headers['access-control-allow-origin'], ALLOWED);
		assert.match(r.headers.vary || '', /\bOrigin\b/i);
		assert.match(r.headers['access-control-expose-headers'] || '',
		    /Retry-After/i);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.origin, ALLOWED);
	});

	it('an error reply to an allowed origin has them too', async () => {
		// So the page's script can read why it was refused.
		const r = await post(s.url, '{"event":', { key: s.key,
		    headers: { Origin: ALLOWED } });
		assert.equal(r.status, 400);
		assert.equal(r.headers['access-control-allow-origin'], ALLOWED);
	});

	it('a POST without Origin (not a browser) has no CORS headers',
	    async () => {
		const r = await post(s.url, { event: 'server' }, {
		    key: NO_ORIGIN_APP.key });
		assert.equal(r.status, 202);
		assert.equal(r.headers['access-control-allow-origin'], undefined);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.app, 'server_side');
		assert.equal(m.body.channel, 'backend');
	});

	it('a POST from an origin of a "*" app is echoed back', async () => {
		const origin = 'https://elsewhere.example';
		const r = await post(s.url, { event: 'open' }, { key: OPEN_APP.key,
		    headers: { Origin: origin } });
		assert.equal(r.status, 202);
		assert.equal(r.headers['access-control-allow-origin'], origin);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.app, 'open');
		assert.equal(m.body.origin, origin);
	});
});
