// @tessera/verifier for browsers, Web and Service Workers and any runtime
// with fetch and WebCrypto (the `browser` and `default` export conditions):
// the wasm is fetched from beside this file, and signatures are checked by
// crypto.subtle. No `node:` import and no dynamic import, so Service Workers
// and bundlers take it as it is. A bundler that does not copy
// `new URL(..., import.meta.url)` assets (esbuild) needs the wasm copied
// beside the bundle, or init() given its URL.
import { bind } from './core.js';

export { VerifyError, Verifier, authenticate } from './core.js';

export const { init, createVerifier } = bind({
  locate: () => new URL('./tessera_verifier_bg.wasm', import.meta.url),
  engine: () => undefined,
});
