// @tessera/verifier for Cloudflare Workers (the `workerd` export condition):
// wrangler, like workerd itself, imports a .wasm file as a compiled
// WebAssembly.Module, because Workers may not compile wasm from bytes.
// Signatures are checked by crypto.subtle, except where the Worker's
// `process.getBuiltinModule` gives workerd's node:crypto (with the
// nodejs_compat flag; workerd 1.20261117 at compatibility date 2026-11-01
// gives it without the flag too): there it checks RSA PKCS#1 v1.5, ECDSA
// and Ed25519 synchronously, without WebCrypto's promise. Looked up rather
// than imported, so a Worker without it imports nothing it lacks. It takes
// no `dsaEncoding` option, so ES signatures go to it as DER; nor the PSS
// padding options, so PS tokens stay with crypto.subtle.
import wasm from './tessera_verifier_bg.wasm';
import { bind } from './core.js';
import { nodeEngine } from './node-engine.js';

export { VerifyError, Verifier, authenticate } from './core.js';

const WEBCRYPTO_ONLY = ['PS256', 'PS384', 'PS512'];
let engine;

// workerd's own node:crypto, or nothing: a lookup that throws, or a module
// without the two functions the engine calls (a stub), leaves every check
// to WebCrypto.
function workerdCrypto() {
  try {
    const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');
    const usable = typeof nodeCrypto?.createPublicKey === 'function' && typeof nodeCrypto.verify === 'function';
    return usable ? nodeCrypto : undefined;
  } catch {
    return undefined;
  }
}

export const { init, createVerifier } = bind({
  locate: () => wasm,
  engine: () => {
    if (engine === undefined) {
      const nodeCrypto = workerdCrypto();
      engine = nodeCrypto ? nodeEngine(nodeCrypto, WEBCRYPTO_ONLY, true) : null;
    }
    return engine ?? undefined;
  },
});
