// 14-static: the files of server.static_dir (the demo pages) at GET and
// HEAD: index.html at /, ".html" added to a path without an extension,
// content types, ETag and 304, and nothing outside the directory: no dot
// files, no "..", no symlink leading out, no directory.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
	freePort, get, makeTmpDir, request, runSluiced, startSluiced,
} from '../lib/sluiced.mjs';

// One raw request, so that the path goes out exactly as written.
function rawGet(port, target) {
	return new Promise((resolve, reject) => {
		const sock = net.connect(port, '127.0.0.1');
		let data = '';
		sock.setEncoding('latin1');
		sock.on('data', (d) => {
			data += d;
		});
		sock.on('end', () => resolve(Number(data.split(' ')[1])));
		sock.on('error', reject);
		sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n` +
		    'Connection: close\r\n\r\n');
	});
}

let s, dir;

before(async () => {
	const base = makeTmpDir('sluice-static');
	dir = path.join(base, 'www');
	fs.mkdirSync(path.join(dir, 'css'), { recursive: true });
	fs.mkdirSync(path.join(dir, 'sub.d'));
	fs.writeFileSync(path.join(dir, 'index.html'), '<h1>clicks</h1>\n');
	fs.writeFileSync(path.join(dir, 'dashboard.html'), '<h1>dash</h1>\n');
	fs.writeFileSync(path.join(dir, 'sluice.min.js'), 'var Sluice={};\n');
	fs.writeFileSync(path.join(dir, 'css', 'app.css'), 'body{}\n');
	fs.writeFileSync(path.join(dir, 'blob.bin'), Buffer.from([0, 1, 2]));
	fs.writeFileSync(path.join(dir, '.secret'), 'hidden\n');
	fs.writeFileSync(path.join(base, 'outside.txt'), 'outside\n');
	fs.symlinkSync(path.join(base, 'outside.txt'),
	    path.join(dir, 'link.txt'));
	fs.symlinkSync(path.join(dir, 'index.html'),
	    path.join(dir, 'inner.html'));
	s = await startSluiced({ name: 'static',
	    server: { static_dir: dir } });
});

after(async () => {
	await s.stop();
});

describe('static files', () => {
	it('/ is index.html, /dashboard is dashboard.html', async () => {
		const r = await get(`${s.baseUrl}/`);
		assert.equal(r.status, 200);
		assert.equal(r.text, '<h1>clicks</h1>\n');
		assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
		assert.equal(r.headers['cache-control'], 'no-cache');
		const d = await get(`${s.baseUrl}/dashboard`);
		assert.equal(d.status, 200);
		assert.equal(d.text, '<h1>dash</h1>\n');
		assert.equal((await get(`${s.baseUrl}/dashboard.html`)).text,
		    '<h1>dash</h1>\n');
	});

	it('content types by extension, in subdirectories too', async () => {
		const js = await get(`${s.baseUrl}/sluice.min.js`);
		assert.equal(js.status, 200);
		assert.equal(js.headers['content-type'],
		    'text/javascript; charset=utf-8');
		const css = await get(`${s.baseUrl}/css/app.css`);
		assert.equal(css.status, 200);
		assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
		const bin = await get(`${s.baseUrl}/blob.bin`);
		assert.equal(bin.headers['content-type'],
		    'application/octet-stream');
		assert.equal(bin.headers['x-content-type-options'], 'nosniff');
	});

	it('HEAD has the headers and no body', async () => {
		const r = await request('HEAD', `${s.baseUrl}/sluice.min.js`);
		assert.equal(r.status, 200);
		assert.equal(r.text, '');
		assert.equal(Number(r.headers['content-length']), 15);
	});

	it('an ETag, and 304 when the client has it', async () => {
		const r = await get(`${s.baseUrl}/`);
		const etag = r.headers.etag;
		assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
		const again = await get(`${s.baseUrl}/`,
		    { headers: { 'If-None-Match': etag } });
		assert.equal(again.status, 304);
		assert.equal(again.text, '');
		const other = await get(`${s.baseUrl}/`,
		    { headers: { 'If-None-Match': '"0-0"' } });
		assert.equal(other.status, 200);
		// A changed file has another tag.
		fs.writeFileSync(path.join(dir, 'index.html'), '<h1>new</h1>\n');
		const changed = await get(`${s.baseUrl}/`,
		    { headers: { 'If-None-Match': etag } });
		assert.equal(changed.status, 200);
		assert.equal(changed.text, '<h1>new</h1>\n');
	});

	it('a symlink inside the directory is followed', async () => {
		const r = await get(`${s.baseUrl}/inner.html`);
		assert.equal(r.status, 200);
	});

	it('nothing outside the directory, no dot files, no directories',
	    async () => {
		for (const p of ['/link.txt', '/.secret', '/css', '/css/',
		    '/sub.d', '/missing.js', '/nothing', '//index.html',
		    '/css//app.css', '/a b.html']) {
			const r = await get(`${s.baseUrl}${p.replace(' ', '%20')}`);
			assert.equal(r.status, 404, p);
			assert.equal(r.json.error, 'not_found', p);
		}
		for (const p of ['/../outside.txt', '/css/../../outside.txt',
		    '/%2e%2e/outside.txt', '/..%2foutside.txt', '/./index.html',
		    '/%2esecret'])
			assert.equal(await rawGet(s.port, p), 404, p);
	});

	it('405 for other methods on a file, 404 elsewhere', async () => {
		const r = await request('POST', `${s.baseUrl}/index.html`,
		    { body: 'x' });
		assert.equal(r.status, 405);
		assert.equal(r.headers.allow, 'GET, HEAD');
		const n = await request('DELETE', `${s.baseUrl}/nothing.html`);
		assert.equal(n.status, 404);
	});

	it('the API routes are not shadowed by files', async () => {
		fs.writeFileSync(path.join(dir, 'healthz'), 'file');
		const r = await get(`${s.baseUrl}/healthz`);
		assert.deepEqual(r.json, { alive: true });
	});
});

describe('without static_dir', () => {
	it('/ is 404', async () => {
		const d = await startSluiced({ name: 'nostatic' });
		try {
			const r = await get(`${d.baseUrl}/`);
			assert.equal(r.status, 404);
		} finally {
			await d.stop();
		}
	});

	it('a static_dir that is not a directory stops the start', async () => {
		const d = makeTmpDir('sluice-badstatic');
		const conf = path.join(d, 'sluiced.conf');
		const [hp, wp] = [await freePort(), await freePort()];
		fs.writeFileSync(conf, `[server]\nhttp_listen = 127.0.0.1:${hp}\n` +
		    `static_dir = ${path.join(d, 'nope')}\n` +
		    `[journal]\ndir = ${path.join(d, 'j')}\n` +
		    `[websocket]\nlisten = 127.0.0.1:${wp}\n` +
		    '[app a]\nkey = key-aaaa-0001\n' +
		    'secret = secret-aaaa-aaaa-0001\n');
		const r = runSluiced(['-c', conf]);
		assert.equal(r.status, 1);
		assert.match(r.stderr, /static_dir .*nope/);
	});
});
