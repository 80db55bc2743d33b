// 18-loader-lib: what the loader tests share (18-loader, 19-loader-sql): a
// fresh database of their own on SLUICE_TEST_PG_URL (tests/integration/run
// starts a private PostgreSQL cluster when it is not set), psql, the sql/
// files, and sluice-loader run as a real process. Not a test file itself.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
	AMQP_URL, SLUICED, SRCDIR, makeTmpDir, renderConfig, waitFor,
} from '../lib/sluiced.mjs';

export const PG_URL = process.env.SLUICE_TEST_PG_URL || '';
export const LOADER = process.env.SLUICE_LOADER ||
    path.join(path.dirname(SLUICED), 'sluice-loader');
export const SQL_DIR = path.join(SRCDIR, 'sql');

// The psql to use: on the PATH, or in PostgreSQL's bin directory.
function findPsql() {
	for (const dir of (process.env.PATH || '').split(':')) {
		const p = path.join(dir, 'psql');
		if (dir && fs.existsSync(p))
			return p;
	}
	const r = spawnSync(path.join(SRCDIR, 'tools', 'pg-node'), ['bindir'],
	    { encoding: 'utf8' });
	const p = path.join(r.stdout.trim(), 'psql');
	return r.status === 0 && fs.existsSync(p) ? p : null;
}

export const PSQL = findPsql();

// Why the loader tests cannot run here, or false. node:test's skip option.
export const SKIP = !PG_URL ? 'no PostgreSQL: it is not installed (apt-get ' +
    'install postgresql) and SLUICE_TEST_PG_URL is not set' :
    !PSQL ? 'psql not found (apt-get install postgresql-client)' :
    !fs.existsSync(LOADER) ? `no sluice-loader at ${LOADER} (set ` +
    'SLUICE_LOADER)' : false;

// The URL of database db on the test cluster.
export function dbUrl(db, base = PG_URL) {
	const u = new URL(base);
	u.pathname = `/${db}`;
	return u.toString();
}

/*
 * Runs psql on url with sql (a string) or file ({file}), stopping at the
 * first error. Resolves the rows of the last statement's output, each an
 * array of fields (NULL is ''), unaligned and tab-separated; throws with
 * psql's message when it fails.
 */
export function psql(url, sql, { file = null, vars = {} } = {}) {
	const args = ['-X', '-q', '-A', '-t', '-F', '\t', '-v',
	    'ON_ERROR_STOP=1', '-d', url];
	for (const [k, v] of Object.entries(vars))
		args.push('-v', `${k}=${v}`);
	if (file)
		args.push('-f', file);
	const r = spawnSync(PSQL, args, { encoding: 'utf8', input: file ? '' :
	    sql, timeout: 60000, env: { ...process.env, PGTZ: 'UTC',
	    PGCLIENTENCODING: 'UTF8' } });
	if (r.error)
		throw r.error;
	if (r.status !== 0)
		throw new Error(`psql failed (${r.status}): ${r.stderr}`);
	const out = r.stdout.replace(/\n$/, '');
	return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
}

// One value: the first field of the first row.
export function psqlValue(url, sql) {
	const rows = psql(url, sql);
	return rows.length > 0 ? rows[0][0] : undefined;
}

const databases = [];

/*
 * Creates a new database (named after tag, the process and chance) and,
 * unless schema is false, applies sql/schema.sql to it. Returns its URL.
 * dropDatabases() removes every one made.
 */
export function createDatabase(tag, { schema = true } = {}) {
	const name = `sluice_${tag}_${process.pid}_` +
	    randomBytes(3).toString('hex');
	psql(PG_URL, `CREATE DATABASE ${name} TEMPLATE template0 ` +
	    `ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
	databases.push(name);
	const url = dbUrl(name);
	if (schema)
		psql(url, null, { file: path.join(SQL_DIR, 'schema.sql') });
	return url;
}

export function dropDatabases() {
	for (const name of databases.splice(0))
		psql(PG_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

// Loaders not yet known to have exited: SIGKILLed when the process exits.
const loaders = new Set();
process.on('exit', () => {
	for (const l of loaders) {
		try {
			l.proc.kill('SIGKILL');
		} catch {
			// gone
		}
	}
});

/*
 * Starts sluice-loader with a config file holding a [loader] section of
 * keys (queue and postgres are required; amqp_url defaults to the test
 * broker, reconnect to 50..500 ms, stats_interval to 1 s, log_level to
 * debug) and the extra args. Returns a handle: proc, exited (a promise of
 * the exit code or signal name), log() (its output so far), configPath,
 * stop(signal) (default SIGTERM; resolves the exit), kill() (SIGKILL).
 */
export function startLoader(keys, args = [], { sections = {} } = {}) {
	const dir = makeTmpDir('sluice-loader');
	const configPath = path.join(dir, 'loader.conf');
	const logPath = path.join(dir, 'loader.log');
	fs.writeFileSync(configPath, renderConfig({ sections: { ...sections,
	    loader: { amqp_url: AMQP_URL, reconnect_min_ms: 50,
	    reconnect_max_ms: 500, stats_interval: 1, log_level: 'debug',
	    ...keys } } }));
	const fd = fs.openSync(logPath, 'a');
	const proc = spawn(LOADER, ['-c', configPath, ...args],
	    { stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	proc.unref();
	const entry = { proc };
	loaders.add(entry);
	const handle = {
		proc,
		configPath,
		logPath,
		exitCode: undefined,
		log: () => {
			try {
				return fs.readFileSync(logPath, 'utf8');
			} catch {
				return '';
			}
		},
	};
	handle.exited = new Promise((resolve) => {
		proc.on('exit', (code, signal) => {
			loaders.delete(entry);
			handle.exitCode = code !== null ? code : signal;
			resolve(handle.exitCode);
		});
	});
	handle.stop = async (signal = 'SIGTERM', timeout = 30000) => {
		if (handle.exitCode === undefined)
			proc.kill(signal);
		let timer;
		const code = await Promise.race([handle.exited,
		    new Promise((r) => {
			timer = setTimeout(() => r('timeout'), timeout);
		    })]);
		clearTimeout(timer);
		if (code === 'timeout') {
			proc.kill('SIGKILL');
			await handle.exited;
			throw new Error(`sluice-loader ignored ${signal} for ` +
			    `${timeout} ms; log:\n${handle.log()}`);
		}
		return code;
	};
	handle.kill = () => handle.stop('SIGKILL');
	return handle;
}

// Runs sluice-loader with keys and args (see startLoader) to its exit:
// resolves {code, log}.
export async function runLoader(keys, args = [], opts = {}) {
	const l = startLoader(keys, args, opts);
	let timer;
	const code = await Promise.race([l.exited, new Promise((r) => {
		timer = setTimeout(() => r('timeout'), 120000);
	})]);
	clearTimeout(timer);
	if (code === 'timeout') {
		await l.kill();
		throw new Error(`sluice-loader did not exit; log:\n${l.log()}`);
	}
	return { code, log: l.log() };
}

// The summary line of a loader's log, as numbers: {messages, loaded,
// duplicates, dead}, or null when it logged none.
export function loaderSummary(log) {
	const m = /(drained|stopped): messages=(\d+) loaded=(\d+) duplicates=(\d+) dead=(\d+)/
	    .exec(log);
	return m ? { how: m[1], messages: Number(m[2]), loaded: Number(m[3]),
	    duplicates: Number(m[4]), dead: Number(m[5]) } : null;
}

// Polls the number of rows of the events table at url until it is n.
export async function waitRows(url, n, { timeout = 30000, where = 'true' } =
    {}) {
	let last;
	await waitFor(() => {
		last = Number(psqlValue(url,
		    `SELECT count(*) FROM events WHERE ${where}`));
		return last === n;
	}, { timeout, interval: 100, what: `${n} rows in events` }).catch(
	    (e) => {
		throw new Error(`${e.message} (last count ${last})`);
	});
}

