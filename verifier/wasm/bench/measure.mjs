// The measurement every runtime runs: @tessera/verifier and jose verifying
// the same tokens (RS256, ES256, EdDSA) on one core, each in a loop. Plain
// JavaScript whose only imports are given to it, so Node, Deno, Bun, workerd,
// Vercel's edge runtime and Chromium all run this same file (runtimes.mjs
// drives them).

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** The verifications to measure, keyed `${library} ${alg}`. */
export async function prepare({ tessera, jose }, { issuer, audience, jwks, tokens }) {
  const runs = {};
  for (const alg of ALGORITHMS) {
    const token = tokens[alg];
    const jwk = jwks.keys.find((key) => key.kid === alg);
    const key = await jose.importJWK(jwk, alg);
    const options = { issuer, audience, algorithms: [alg] };
    const verifier = await tessera.createVerifier({ issuer, audience, jwks, algorithms: [alg] });
    runs[`tessera ${alg}`] = () => verifier.verify(token);
    runs[`jose ${alg}`] = () => jose.jwtVerify(token, key, options);
    // Both must accept the token before either is timed.
    if ((await verifier.verify(token)).claims.sub !== 'pairwise-bench') throw new Error(`tessera ${alg}`);
    if ((await jose.jwtVerify(token, key, options)).payload.sub !== 'pairwise-bench') throw new Error(`jose ${alg}`);
  }
  return runs;
}

/** Runs `run` `count` times, one after the other. */
export async function repeat(run, count) {
  for (let i = 0; i < count; i++) await run();
}

/** Verifications per second of each run, timed with `now()` (milliseconds)
 * for `seconds` each after a warm-up; tessera and jose alternate per
 * algorithm so that neither gets a quieter moment of the machine. */
export async function measureAll(runs, seconds, now = () => performance.now()) {
  const results = [];
  for (const [name, run] of Object.entries(runs)) {
    const [library, alg] = name.split(' ');
    let end = now() + 200;
    while (now() < end) await repeat(run, 16);
    let count = 0;
    const start = now();
    end = start + seconds * 1000;
    while (now() < end) {
      await repeat(run, 64);
      count += 64;
    }
    results.push({ library, alg, ops: Math.round(count / ((now() - start) / 1000)) });
  }
  return results;
}
