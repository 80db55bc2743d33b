// build.mjs: `npm run build`: dist/sluice.mjs (the ES module, bundled) and
// dist/sluice.min.js (minified, for a <script> tag: window.Sluice), with
// esbuild. build() is also what the size test runs.
//
// The sources name their private members (properties and methods of the
// client, its link and store, and of the objects they keep inside) with a
// leading underscore: this._queue, this._options, batch._events. The
// minified build shortens every such name (esbuild's mangleProps), so that
// the source can spell words out and the bundle stays small; the public
// API (index.d.ts) has no underscore and is never renamed.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

// Browsers the builds are for: what has Web Locks, ||= and ?? alike.
export const TARGET = ['chrome90', 'firefox90', 'safari15'];

// The private names: an underscore, then a letter (not __proto__ and the
// like).
export const PRIVATE = /^_[A-Za-z]/;

// Writes both builds; resolves the paths written.
export async function build() {
	const common = {
		bundle: true,
		target: TARGET,
		legalComments: 'none',
		logLevel: 'warning',
	};
	const esm = path.join(here, 'dist', 'sluice.mjs');
	const min = path.join(here, 'dist', 'sluice.min.js');
	await esbuild.build({ ...common, entryPoints: [path.join(here, 'src',
	    'index.js')], format: 'esm', outfile: esm });
	await esbuild.build({ ...common, entryPoints: [path.join(here, 'src',
	    'browser.js')], format: 'iife', minify: true, mangleProps: PRIVATE,
	    outfile: min });
	return { esm, min };
}

if (process.argv[1] && path.resolve(process.argv[1]) ===
    fileURLToPath(import.meta.url)) {
	const out = await build();
	for (const f of Object.values(out))
		console.log(`built ${path.relative(process.cwd(), f)}`);
}
