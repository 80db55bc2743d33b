// 01-config: the command line and the configuration check (sluiced -t).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { useSluiced } from '../lib/amqp.mjs';
import {
	AMQP_URL, SRCDIR, TEST_APP, get, makeTmpDir, post, renderConfig,
	runSluiced, uniqueNames, waitFor,
} from '../lib/sluiced.mjs';

const tmp = makeTmpDir('sluice-config');

function writeConf(name, text) {
	const file = path.join(tmp, name);
	fs.writeFileSync(file, text);
	return file;
}

describe('sluiced command line', () => {
	it('-t accepts conf/sluiced.conf and prints "configuration OK"', () => {
		const conf = path.join(SRCDIR, 'conf', 'sluiced.conf');
		const r = runSluiced(['-t', '-c', conf]);
		assert.equal(r.stderr, '');
		assert.equal(r.stdout, 'configuration OK\n');
		assert.equal(r.status, 0);
	});

	it('--test with --config works the same', () => {
		const conf = path.join(SRCDIR, 'conf', 'sluiced.conf');
		const r = runSluiced(['--test', '--config', conf]);
		assert.equal(r.stdout, 'configuration OK\n');
		assert.equal(r.status, 0);
	});

	it('-t accepts the configs the tests generate', () => {
		const names = uniqueNames('config');
		const file = writeConf('generated.conf', renderConfig({
			sections: {
				server: { http_listen: '127.0.0.1:1', log_level: 'debug' },
				journal: { dir: path.join(tmp, 'j') },
				amqp: { url: AMQP_URL, exchange: names.exchange,
				    unrouted_exchange: names.unrouted },
			},
			queues: { [names.queue]: ['a.#', 'b.*'] },
			apps: [TEST_APP],
		}));
		const r = runSluiced(['-t', '-c', file]);
		assert.equal(r.stdout, 'configuration OK\n', r.stderr);
		assert.equal(r.status, 0);
		// -t must not create the journal.
		assert.equal(fs.existsSync(path.join(tmp, 'j')), false);
	});

	it('-t reports every error with file:line and exits non-zero', () => {
		const lines = [
			'[server]',				// 1
			'http_threads = 0',			// 2: out of range
			'no_such_key = 1',			// 3: unknown key
			'[no_such_section]',			// 4: unknown section
			'[limits]',				// 5
			'max_event_bytes = lots',		// 6: not a size
			'[amqp]',				// 7
			'queue_type = sideways',		// 8: bad enum
			'[app web]',				// 9
			'key = not/valid',			// 10: a slash
			'secret = s3cret-but-long-enough',	// 11: fine
			'origins = *',				// 12: fine
			'this line is not a pair',		// 13: syntax
		];
		const file = writeConf('bad.conf', lines.join('\n') + '\n');
		const r = runSluiced(['-t', '-c', file]);
		assert.notEqual(r.status, 0);
		assert.doesNotMatch(r.stdout, /configuration OK/);
		const errors = r.stderr.trim().split('\n');
		for (const line of [2, 3, 4, 6, 8, 10, 13]) {
			assert.ok(errors.some((e) => e.startsWith(`${file}:${line}: `)),
			    `no error for line ${line} in:\n${r.stderr}`);
		}
		for (const line of [1, 5, 7, 9, 11, 12]) {
			assert.ok(!errors.some((e) =>
			    e.startsWith(`${file}:${line}: `)),
			    `unexpected error for line ${line} in:\n${r.stderr}`);
		}
		// Each error names what is wrong.
		assert.match(r.stderr, /http_threads/);
		assert.match(r.stderr, /no_such_key/);
		assert.match(r.stderr, /no_such_section/);
		assert.match(r.stderr, /max_event_bytes/);
		assert.match(r.stderr, /queue_type/);
	});

	it('-t takes keys and secrets as Pusher does, warning of a short ' +
	    'secret', () => {
		// soketi's test app, and a one-character key.
		const file = writeConf('soketi.conf', '[app soketi]\n' +
		    'key = app-key\nsecret = app-secret\n' +
		    '[app tiny]\nkey = k\nsecret = 0123456789abcdef\n');
		const r = runSluiced(['-t', '-c', file]);
		assert.equal(r.stdout, 'configuration OK\n', r.stderr);
		assert.equal(r.status, 0);
		// One warning, for the short secret, with file:line; the
		// secret itself is not printed.
		assert.equal(r.stderr, `warning: ${file}:3: [app soketi] ` +
		    'secret: only 10 characters; a secret shorter than 16 is ' +
		    'easier to guess\n');
	});

	it('-t refuses an empty secret and a key with other characters', () => {
		const file = writeConf('empty-secret.conf', '[app a]\n' +
		    'key = app-key\nsecret =\n[app b]\nkey = b.key\n' +
		    'secret = 0123456789abcdef\n');
		const r = runSluiced(['-t', '-c', file]);
		assert.equal(r.status, 1, r.stderr);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, new RegExp(`^${file}:3: \\[app a\\] secret: ` +
		    'must not be empty$', 'm'));
		assert.match(r.stderr, new RegExp(`^${file}:5: \\[app b\\] key: ` +
		    '"b.key" is not a valid key \\(1..128 characters of ' +
		    'A-Z a-z 0-9 _ -\\)$', 'm'));
	});

	it('-t refuses an origin without a scheme with file:line', () => {
		const file = writeConf('origin.conf', '[app web]\n' +
		    'key = key-web-0001\nsecret = s3cret-but-long-enough\n' +
		    'origins = localhost\n');
		const r = runSluiced(['-t', '-c', file]);
		assert.equal(r.status, 1, r.stderr);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, new RegExp(`^${file}:4: .*origins.*` +
		    '"localhost" is not an origin: it has no scheme ' +
		    '\\(did you mean http://localhost\\?\\)', 'm'));
	});

	it('a config without any app is an error', () => {
		const file = writeConf('noapp.conf', '[server]\nlog_level = info\n');
		const r = runSluiced(['-t', '-c', file]);
		assert.notEqual(r.status, 0);
		assert.match(r.stderr, new RegExp(`^${file}`, 'm'));
		assert.match(r.stderr, /app/);
	});

	it('a missing config file is an error naming the file', () => {
		const file = path.join(tmp, 'does-not-exist.conf');
		const r = runSluiced(['-t', '-c', file]);
		assert.notEqual(r.status, 0);
		assert.match(r.stderr, new RegExp(file));
	});

	it('a bad config stops the daemon from starting', () => {
		const file = writeConf('bad-start.conf',
		    '[server]\nhttp_threads = 1000\n[app a]\nkey = abcdefgh\n' +
		    'secret = 0123456789abcdef\n');
		const r = runSluiced(['-c', file]);
		assert.notEqual(r.status, 0);
		assert.match(r.stderr, new RegExp(`^${file}:2: `, 'm'));
	});

	it('--version and -V print the version', () => {
		for (const flag of ['--version', '-V']) {
			const r = runSluiced([flag]);
			assert.equal(r.status, 0);
			assert.match(r.stdout, /^sluiced \d+\.\d+\.\d+\S*\n$/);
		}
	});

	it('--help and -h print the usage on stdout', () => {
		for (const flag of ['--help', '-h']) {
			const r = runSluiced([flag]);
			assert.equal(r.status, 0);
			assert.match(r.stdout, /^usage: sluiced/);
			assert.match(r.stdout, /-c, --config FILE/);
			assert.match(r.stdout, /-t, --test/);
		}
	});

	it('an unknown option or argument prints the usage and fails', () => {
		for (const args of [['--frobnicate'], ['extra-argument']]) {
			const r = runSluiced(args);
			assert.equal(r.status, 2);
			assert.match(r.stderr, /usage: sluiced/);
		}
	});
});

describe('the daemon', () => {
	const { s, broker, start } = useSluiced({ name: 'config' });

	it('logs to stderr with time, level and module', async () => {
		await waitFor(() => /\binfo main: ready\b/.test(s.log()),
		    { what: 'the "ready" log line' });
		const lines = s.log().trim().split('\n');
		for (const line of lines) {
			assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) [a-z_]+: \S/,
			    `bad log line: ${line}`);
		}
	});

	it('logs the warning of a short secret at startup', async () => {
		const d = await start({ name: 'config-soketi', apps: [{
		    id: 'soketi', key: 'app-key', secret: 'app-secret',
		    publish_channels: 'c' }] });
		try {
			await waitFor(() => /\binfo main: ready\b/.test(d.log()),
			    { what: 'the "ready" log line' });
			assert.match(d.log(), new RegExp(' warn config: ' +
			    `${d.configPath}:\\d+: \\[app soketi\\] secret: only 10 ` +
			    'characters'));
			const r = await post(d.url, { event: 'e', channel: 'c' },
			    { key: 'app-key' });
			assert.equal(r.status, 202, r.text);
		} finally {
			await d.stop();
		}
	});

	// conf/sluiced.conf: the default vhost "/" may be written as %2f.
	it('connects with the vhost given as /%2f', async () => {
		const url = `${AMQP_URL.replace(/\/$/, '')}/%2f`;
		await s.restart({ amqpUrl: url });
		await waitFor(async () => (await get(`${s.baseUrl}/readyz`))
		    .status === 200, { timeout: 10000,
		    what: `/readyz 200 with ${url}` });
		const r = await post(s.url, { event: 'default_vhost' }, { key: s.key });
		assert.equal(r.status, 202);
		const [m] = await broker.collect(s.names.queue, 1);
		assert.equal(m.body.event, 'default_vhost');
	});
});
