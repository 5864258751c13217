// The signature engine over a node:crypto module, which the wasm side calls
// synchronously: no WebCrypto promise, no second call into the wasm per
// token. node.js (Node, Deno, Bun) and workerd.js (Cloudflare Workers whose
// `process.getBuiltinModule` gives node:crypto) hand it over; `webCrypto` names the algorithms
// left to WebCrypto instead, where the host's node:crypto is slower or
// lacks an option they need. With `derEcdsa`, ES signatures go to
// node:crypto as DER, for a node:crypto without the `dsaEncoding` option
// (workerd's).
const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
// The size of r and of s in ES256 and ES384 signatures.
const COORDINATES = { 256: 32, 384: 48 };

// One half of an IEEE P1363 signature as a DER INTEGER: leading zeros
// dropped (one kept), a zero put first when the high bit is set.
function derInteger(bytes) {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const pad = bytes[start] >> 7;
  const integer = new Uint8Array(2 + pad + bytes.length - start);
  integer[0] = 2;
  integer[1] = integer.length - 2;
  integer.set(bytes.subarray(start), 2 + pad);
  return integer;
}

// A JWS ECDSA signature (r then s, `size` bytes each) as DER's SEQUENCE of
// two INTEGERs, or nothing when it has another length: DER alone would take
// shorter r and s too. (At most 2 * 51 bytes: a short-form length.)
function derSignature(signature, size) {
  if (signature.length !== 2 * size) return undefined;
  const r = derInteger(signature.subarray(0, size));
  const s = derInteger(signature.subarray(size));
  const der = new Uint8Array(2 + r.length + s.length);
  der[0] = 0x30;
  der[1] = r.length + s.length;
  der.set(r, 2);
  der.set(s, 2 + r.length);
  return der;
}

export function nodeEngine(nodeCrypto, webCrypto, derEcdsa = false) {
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
        case 'ES': {
          if (!derEcdsa) return nodeCrypto.verify(HASHES[bits], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
          const der = derSignature(signature, COORDINATES[bits]);
          return der !== undefined && nodeCrypto.verify(HASHES[bits], data, key, der);
        }
        default:
          return nodeCrypto.verify(null, data, key, signature);
      }
    },
  };
}
