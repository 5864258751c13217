// The checks every runtime runs against the installed @tessera/verifier: the
// behavioural cases shared with the native tests, tokens signed by npm jose,
// keys fetched by discovery from a loopback issuer, and authenticate()'s
// RFC 6750 answers. Plain JavaScript with no imports, so Node, Deno, Bun,
// workerd, Vercel's edge runtime, a page, a Web Worker and a Service Worker
// all run this same file; the fixture (signed by Node, see runtimes.test.mjs)
// is fetched from the loopback server. The last line is the verdict the
// test reads: `conformance: N passed, M failed`.

export async function conformance(api, fixtureUrl) {
  const { createVerifier, VerifyError, authenticate } = api;
  const fixture = await (await fetch(fixtureUrl)).json();
  const { suite, tokens, jose, origin } = fixture;
  const base = { issuer: suite.issuer, audience: suite.audience, now: suite.now, jwks: fixture.jwks };
  const lines = [];
  let passed = 0;
  const check = (name, good, detail) => {
    if (good) passed += 1;
    else lines.push(`FAIL ${name}: ${detail}`);
  };
  const outcome = async (verifier, token) => {
    try {
      return { ok: true, ...(await verifier.verify(token)) };
    } catch (error) {
      return { ok: false, error, typed: error instanceof VerifyError };
    }
  };

  const judge = (name, c, got) => {
    const good = c.expect.ok
      ? got.ok && got.claims.sub === c.claims.sub
      : !got.ok && got.typed && got.error.code === c.expect.code && got.error.claim === c.expect.claim;
    check(name, good, got.ok ? 'accepted' : `${got.error?.code} ${got.error?.claim} ${got.error?.message}`);
  };
  for (const [index, c] of suite.cases.entries()) {
    let got;
    try {
      got = await outcome(await createVerifier({ ...base, ...c.options }), tokens[index]);
    } catch (error) {
      got = { ok: false, error, typed: error instanceof VerifyError };
    }
    judge(c.name, c, got);
  }
  // The cases without options again, twice, through one verifier: on the
  // second round every key is imported, so where signatures are WebCrypto's
  // each token takes the path that awaits crypto.subtle.verify in
  // JavaScript (verifySync's started check) rather than the first import's.
  const shared = await createVerifier(base);
  // A token that verifies, with one signature character changed (in the
  // middle, so the base64url stays canonical), must not.
  const forge = (token) => {
    const at = token.lastIndexOf('.') + Math.floor((token.length - token.lastIndexOf('.')) / 2);
    return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
  };
  const forged = { expect: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' } };
  for (const round of ['first', 'second']) {
    for (const [index, c] of suite.cases.entries()) {
      if (c.options !== undefined && Object.keys(c.options).length > 0) continue;
      judge(`${c.name} (one verifier, ${round} round)`, c, await outcome(shared, tokens[index]));
      if (c.expect.ok) judge(`${c.name}, forged (one verifier, ${round} round)`, forged, await outcome(shared, forge(tokens[index])));
    }
  }

  const joseVerifier = await createVerifier({ ...base, jwks: jose.jwks, typ: 'at+jwt' });
  for (const [alg, token] of jose.tokens) {
    const got = await outcome(joseVerifier, token);
    check(`jose ${alg}`, got.ok && got.header.alg === alg && got.claims.sub === `sub-${alg}`, got.ok ? got.header.alg : got.error?.code);
  }

  const remote = await createVerifier({ issuer: origin, audience: suite.audience, now: suite.now, remote: {} });
  const fetched = await outcome(remote, fixture.remoteToken);
  check('keys by discovery from a loopback issuer', fetched.ok && fetched.claims.sub === 'remote', fetched.ok ? '' : `${fetched.error?.code} ${fetched.error?.message}`);

  const answers = [
    ['no Authorization header', undefined, 401, 'Bearer'],
    ['a Basic header', 'Basic Zm9vOmJhcg==', 401, 'Bearer error="invalid_token"'],
    ['an expired token', `Bearer ${tokens[suite.cases.findIndex((c) => c.expect.code === 'ERR_JWT_EXPIRED')]}`, 401, 'Bearer error="invalid_token"'],
    ['a good token', `Bearer ${tokens[0]}`, 200, undefined],
  ];
  const local = await createVerifier(base);
  for (const [name, header, status, challenge] of answers) {
    const answer = await authenticate(local, header);
    const got = answer.ok ? 200 : answer.status;
    check(`authenticate: ${name}`, got === status && answer.headers?.['www-authenticate'] === challenge, JSON.stringify(answer));
  }
  const down = await createVerifier({
    issuer: origin, audience: suite.audience, now: suite.now, remote: { jwksUri: `${origin}/down` },
  });
  const unavailable = await authenticate(down, `Bearer ${fixture.remoteToken}`);
  check('authenticate: keys that cannot be had', !unavailable.ok && unavailable.status === 503 && unavailable.headers['retry-after'] === '30', JSON.stringify(unavailable));

  lines.push(`conformance: ${passed} passed, ${lines.length} failed`);
  return lines.join('\n');
}
