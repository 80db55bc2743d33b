// index.js: the package's module: the Sluice client (also the default
// export) and the UUIDv7 maker it uses.

import { Sluice } from './sluice.js';

export { Sluice };
export { uuid7 } from './uuid7.js';
export default Sluice;
