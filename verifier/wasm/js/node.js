// @tessera/verifier for Node 20+, Deno and Bun (the `node`, `deno` and `bun`
// export conditions): the wasm is read from the package's folder, and
// signatures are checked synchronously by node:crypto (ECDSA in Deno: by
// WebCrypto, see below). In Node every WebCrypto call is a round trip
// through the thread pool that costs several times the signature check
// itself.
import { readFile } from 'node:fs/promises';
import nodeCrypto from 'node:crypto';
import { bind } from './core.js';
import { nodeEngine } from './node-engine.js';

export { VerifyError, Verifier, authenticate } from './core.js';

// Deno's node:crypto checks ECDSA at about half the rate of its WebCrypto,
// so there ES256 and ES384 are left to WebCrypto (the wrapper awaits it).
const engine = nodeEngine(nodeCrypto, typeof globalThis.Deno === 'object' ? ['ES256', 'ES384'] : undefined);

// init() loads the module ahead of time (createVerifier does it too);
// createVerifier's options are documented in index.d.ts.
export const { init, createVerifier } = bind({
  locate: () => readFile(new URL('./tessera_verifier_bg.wasm', import.meta.url)),
  engine: () => engine,
});
