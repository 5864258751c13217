// Benchmark of the verifier in Node, beside its anchors, on the same tokens.
// Usage: node verify.bench.mjs OUT_DIR
// Writes OUT_DIR/tokens.json (keys and tokens, read by the native benchmark)
// and prints one JSON object with operations per second for jose, fast-jwt
// (with and without its cache) and @tessera/verifier (with and without its
// cache), each verifying the same token in a loop on one core.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import crypto from 'node:crypto';
import * as jose from 'jose';
import { createVerifier as fastJwtVerifier } from 'fast-jwt';
import { createVerifier } from '../../../dist/npm/verifier/node.js';

const outDir = process.argv[2] ?? 'target/bench';
mkdirSync(outDir, { recursive: true });
const seconds = Number(process.env.TESSERA_BENCH_SECONDS ?? '1.5');
const ISSUER = 'https://id.bench.example';
const AUDIENCE = 'bench-api';

const b64 = (data) => Buffer.from(data).toString('base64url');
const pairs = {
  RS256: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: crypto.generateKeyPairSync('ed25519'),
};
const exp = Math.floor(Date.now() / 1000) + 24 * 3600;
const tokens = {};
const jwks = { keys: [] };
for (const [alg, pair] of Object.entries(pairs)) {
  jwks.keys.push({ ...pair.publicKey.export({ format: 'jwk' }), kid: alg, alg, use: 'sig' });
  const header = b64(JSON.stringify({ alg, kid: alg, typ: 'JWT' }));
  const payload = b64(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'pairwise-bench', exp, iat: exp - 3600, scope: 'orders' }));
  const input = `${header}.${payload}`;
  const options = alg === 'ES256' ? { key: pair.privateKey, dsaEncoding: 'ieee-p1363' } : pair.privateKey;
  const signature = crypto.sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), options);
  tokens[alg] = `${input}.${b64(signature)}`;
}
writeFileSync(join(outDir, 'tokens.json'), JSON.stringify({ issuer: ISSUER, audience: AUDIENCE, jwks, tokens }));

async function measure(run) {
  const deadline = (ms) => performance.now() + ms;
  let end = deadline(200);
  while (performance.now() < end) await run();
  let count = 0;
  const start = performance.now();
  end = start + seconds * 1000;
  // Check the clock every 64 calls so the timer does not dominate.
  while (true) {
    for (let i = 0; i < 64; i++) await run();
    count += 64;
    if (performance.now() >= end) break;
  }
  return Math.round(count / ((performance.now() - start) / 1000));
}

function measureSync(run) {
  return measure(async () => run());
}

const results = [];
for (const [alg, token] of Object.entries(tokens)) {
  const jwk = jwks.keys.find((key) => key.kid === alg);
  const key = await jose.importJWK(jwk, alg);
  const joseOptions = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] };
  const check = (claims) => {
    if (claims.sub !== 'pairwise-bench') throw new Error('wrong result');
  };
  check((await jose.jwtVerify(token, key, joseOptions)).payload);
  results.push({ library: 'jose', alg, ops: await measure(async () => jose.jwtVerify(token, key, joseOptions)) });

  // A cache hit is cheap enough that where the token comes from matters: a
  // server reads it from each request's header as a new string (whose hash
  // no engine has seen), so both caches are given one per call.
  const bytes = Buffer.from(token, 'latin1');
  const arriving = () => bytes.toString('latin1');

  const pem = pairs[alg].publicKey.export({ format: 'pem', type: 'spki' });
  for (const cache of [false, true]) {
    const verify = fastJwtVerifier({ key: pem, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE, cache });
    check(verify(token));
    const run = cache ? () => verify(arriving()) : () => verify(token);
    results.push({ library: cache ? 'fast-jwt cached' : 'fast-jwt', alg, ops: await measureSync(run) });
  }

  for (const cacheSize of [undefined, 1000]) {
    const verifier = await createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks, algorithms: [alg], cacheSize });
    check((await verifier.verify(token)).claims);
    const library = cacheSize ? 'tessera wasm cached' : 'tessera wasm';
    const run = cacheSize ? () => verifier.verify(arriving()) : () => verifier.verify(token);
    results.push({ library, alg, ops: await measure(run) });
  }
}
console.log(JSON.stringify({ node: process.version, results }));
