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

/** How many times each run is timed; its figure is the median. Even, so
 * that tessera and jose go first equally often. */
const ROUNDS = 4;

/** The median of `values` (of an even count, the mean of the middle two). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The runs' names, `${library} ${alg}`, tessera's then jose's for each
 * algorithm. */
export const RUN_NAMES = ALGORITHMS.flatMap((alg) => [`tessera ${alg}`, `jose ${alg}`]);

/** `{ library, alg, ops }` for each of `names`, where `rate(name)` times one
 * run in verifications per second: ROUNDS turns, the median kept. tessera
 * and jose take turns per algorithm, each going first in half the turns, so
 * that a quieter moment of the machine falls on neither more than the
 * other. */
export async function inTurns(names, rate) {
  const rates = {};
  const pairs = {};
  for (const name of names) (pairs[name.split(' ')[1]] ??= []).push(name);
  for (const pair of Object.values(pairs)) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 ? [...pair].reverse() : pair) (rates[name] ??= []).push(await rate(name));
    }
  }
  return Object.entries(rates).map(([name, values]) => {
    const [library, alg] = name.split(' ');
    return { library, alg, ops: Math.round(median(values)) };
  });
}

/** Verifications per second of each run, timed with `now()` (milliseconds)
 * for `seconds` at a time after a warm-up, in turns (`inTurns`). */
export function measureAll(runs, seconds, now = () => performance.now()) {
  return inTurns(Object.keys(runs), async (name) => {
    const run = runs[name];
    let end = now() + 200;
    while (now() < end) await repeat(run, 16);
    let count = 0;
    const start = now();
    end = start + seconds * 1000;
    while (now() < end) {
      await repeat(run, 64);
      count += 64;
    }
    return count / ((now() - start) / 1000);
  });
}
