// test/integration/run.mjs: `npm run test:integration`: runs this
// directory's tests with tests/integration/run (a private RabbitMQ node, a
// real sluiced: set SLUICED to the binary, e.g. a build directory's).
// `npm run test:browser` runs test/browser's the same way.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const srcdir = path.resolve(here, '../../..');
const dir = process.argv[2] ? path.resolve(here, '..', process.argv[2]) :
    here;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.mjs'))
    .sort().map((f) => path.join(dir, f));
if (!process.env.SLUICED) {
	console.error('test:integration: set SLUICED to the sluiced to test');
	process.exit(99);
}
const r = spawnSync(path.join(srcdir, 'tests', 'integration', 'run'), [],
    { stdio: 'inherit', env: { ...process.env, SLUICE_SRCDIR: srcdir,
    SLUICE_TEST_FILES: files.join(' ') } });
process.exit(r.status ?? 1);
