// index.d.ts: tsc --noEmit on test/types/example.ts, an application's use
// of the package (its @ts-expect-error lines must be errors), and on a
// copy with one mistake, which must fail.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const dir = path.join(root, 'test', 'types');

function run(project) {
	return spawnSync(process.execPath, [tsc, '-p', project], { cwd: root,
	    encoding: 'utf8', timeout: 120000 });
}

test('the example type-checks against index.d.ts', () => {
	const r = run(path.join(dir, 'tsconfig.json'));
	assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a wrong use does not', () => {
	const bad = path.join(dir, 'bad.generated.ts');
	const conf = path.join(dir, 'tsconfig.bad.generated.json');
	fs.writeFileSync(bad, "import Sluice from 'sluice-js';\n" +
	    "const s = new Sluice({ key: 'k' });\n" +
	    "s.track('x', {}, { channel: 5 });\n");
	const c = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'),
	    'utf8'));
	c.files = ['bad.generated.ts'];
	fs.writeFileSync(conf, JSON.stringify(c));
	try {
		const r = run(conf);
		assert.notEqual(r.status, 0);
		assert.match(r.stdout, /bad\.generated\.ts\(3,.*TS2322/);
	} finally {
		fs.rmSync(bad, { force: true });
		fs.rmSync(conf, { force: true });
	}
});
