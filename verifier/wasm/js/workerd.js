// @tessera/verifier for Cloudflare Workers (the `workerd` export condition):
// wrangler, like workerd itself, imports a .wasm file as a compiled
// WebAssembly.Module, because Workers may not compile wasm from bytes.
// Signatures are checked by crypto.subtle, except in a Worker with the
// nodejs_compat flag: there workerd's node:crypto (found through
// `process.getBuiltinModule`, so a Worker without the flag imports nothing
// it lacks) checks RSA PKCS#1 v1.5 and Ed25519 synchronously, without
// WebCrypto's promise. It does not take the padding and signature-encoding
// options PS and ES tokens need, so those stay with crypto.subtle.
import wasm from './tessera_verifier_bg.wasm';
import { bind } from './core.js';
import { nodeEngine } from './node-engine.js';

export { VerifyError, Verifier, authenticate } from './core.js';

const WEBCRYPTO_ONLY = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384'];
let engine;

export const { init, createVerifier } = bind({
  locate: () => wasm,
  engine: () => {
    if (engine === undefined) {
      const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');
      engine = nodeCrypto ? nodeEngine(nodeCrypto, WEBCRYPTO_ONLY) : null;
    }
    return engine ?? undefined;
  },
});
