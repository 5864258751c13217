// @tessera/verifier for Cloudflare Workers (the `workerd` export condition):
// wrangler, like workerd itself, imports a .wasm file as a compiled
// WebAssembly.Module, because Workers may not compile wasm from bytes.
// Signatures are checked by crypto.subtle: workerd's node:crypto does not
// take the padding and signature-encoding options PS and ES tokens need.
import wasm from './tessera_verifier_bg.wasm';
import { bind } from './core.js';

export { VerifyError, Verifier, authenticate } from './core.js';

export const { init, createVerifier } = bind({
  locate: () => wasm,
  engine: () => undefined,
});
