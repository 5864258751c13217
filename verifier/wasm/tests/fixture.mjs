// Keys, a JWKS and a raw signer shared by the Node and browser tests, so both
// hold the package to the behavioural cases of verifier/tests/cases.json.
import { readFileSync } from 'node:fs';
import crypto from 'node:crypto';
import * as jose from 'jose';

export const suite = JSON.parse(readFileSync(new URL('../../tests/cases.json', import.meta.url), 'utf8'));
export const NOW = suite.now;

export const b64 = (data) => Buffer.from(data).toString('base64url');

// One key per kind, with the kids the shared cases use.
const keys = {
  rsa: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
  p256: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ed25519: crypto.generateKeyPairSync('ed25519'),
};

export const jwks = {
  keys: Object.entries(keys).map(([kid, pair]) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid })),
};

const keyFor = (alg) => ({ ES256: keys.p256, ES384: keys.p384, EdDSA: keys.ed25519 })[alg] ?? keys.rsa;

/** Signs header and claims exactly as given, for tokens no library would make. */
export function signRaw(alg, header, claims) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const { privateKey } = keyFor(alg);
  const hash = `sha${alg.slice(2) || '256'}`;
  let signature;
  if (alg.startsWith('RS')) signature = crypto.sign(hash, Buffer.from(input), privateKey);
  else if (alg.startsWith('PS'))
    signature = crypto.sign(hash, Buffer.from(input), {
      key: privateKey,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  else if (alg.startsWith('ES')) signature = crypto.sign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  else signature = crypto.sign(null, Buffer.from(input), privateKey);
  return `${input}.${b64(signature)}`;
}

/** A key set and one token per algorithm, made by npm jose, for interop. */
export async function signedByJose() {
  const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
  const set = { keys: [] };
  const tokens = [];
  for (const alg of algorithms) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    set.keys.push({ ...(await jose.exportJWK(publicKey)), kid: `jose-${alg}`, alg });
    tokens.push([alg, await new jose.SignJWT({ scope: 'orders' })
      .setProtectedHeader({ alg, kid: `jose-${alg}`, typ: 'at+jwt' })
      .setIssuer(suite.issuer)
      .setAudience([suite.audience, 'other'])
      .setSubject(`sub-${alg}`)
      .setIssuedAt(NOW - 5)
      .setExpirationTime(NOW + 60)
      .sign(privateKey)]);
  }
  return { jwks: set, tokens };
}
