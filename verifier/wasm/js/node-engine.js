// The signature engine over a node:crypto module, which the wasm side calls
// synchronously: no WebCrypto promise, no second call into the wasm per
// token. node.js (Node, Deno, Bun) and workerd.js (Cloudflare Workers whose
// `process.getBuiltinModule` gives node:crypto) hand it over; `webCrypto` names the algorithms
// left to WebCrypto instead, where the host's node:crypto is slower or
// lacks an option they need.
const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

export function nodeEngine(nodeCrypto, webCrypto) {
  return {
    webCrypto,
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
            { key, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }, signature);
        case 'ES':
          return nodeCrypto.verify(HASHES[bits], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
        default:
          return nodeCrypto.verify(null, data, key, signature);
      }
    },
  };
}
