// @tessera/verifier for Node 20+, Deno and Bun (the `node`, `deno` and `bun`
// export conditions): the wasm is read from the package's folder, and
// signatures are checked synchronously by node:crypto (ECDSA in Deno: by
// WebCrypto, see below). In Node every WebCrypto call is a round trip
// through the thread pool that costs several times the signature check
// itself.
import { readFile } from 'node:fs/promises';
import nodeCrypto from 'node:crypto';
import { bind } from './core.js';

export { VerifyError, Verifier, authenticate } from './core.js';

const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
const { constants } = nodeCrypto;

const engine = {
  // Deno's node:crypto checks ECDSA at about half the rate of its WebCrypto,
  // so there ES256 and ES384 are left to WebCrypto (the wrapper awaits it).
  webCrypto: typeof globalThis.Deno === 'object' ? ['ES256', 'ES384'] : undefined,
  importKey(jwk) {
    return nodeCrypto.createPublicKey({ key: jwk, format: 'jwk' });
  },
  verify(alg, key, data, signature) {
    const bits = alg.slice(2);
    switch (alg.slice(0, 2)) {
      case 'RS':
        return nodeCrypto.verify(HASHES[bits], data, key, signature);
      case 'PS':
        return nodeCrypto.verify(HASHES[bits], data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }, signature);
      case 'ES':
        return nodeCrypto.verify(HASHES[bits], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      default:
        return nodeCrypto.verify(null, data, key, signature);
    }
  },
};

// init() loads the module ahead of time (createVerifier does it too);
// createVerifier's options are documented in index.d.ts.
export const { init, createVerifier } = bind({
  locate: () => readFile(new URL('./tessera_verifier_bg.wasm', import.meta.url)),
  engine: () => engine,
});
