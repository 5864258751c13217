// @tessera/verifier for Vercel's edge runtime (the `edge-light` export
// condition): its bundler gives `.wasm?module` imports as a compiled
// WebAssembly.Module, because the runtime may not compile wasm from bytes.
// Signatures are checked by crypto.subtle.
import wasm from './tessera_verifier_bg.wasm?module';
import { bind } from './core.js';

export { VerifyError, Verifier, authenticate } from './core.js';

export const { init, createVerifier } = bind({
  locate: () => wasm,
  engine: () => undefined,
});
