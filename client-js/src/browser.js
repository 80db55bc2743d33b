// browser.js: the entry of the browser global build (dist/sluice.min.js):
// window.Sluice is the client class.

import { Sluice } from './sluice.js';

globalThis.Sluice = Sluice;
