// The @tessera/verifier package (dist/npm/verifier, built by `cargo xtask dist`)
// in Node: the behavioural cases shared with the native tests, interop with
// tokens signed by npm `jose`, typed errors, and remote key sets fetched with
// the runtime's fetch from a local issuer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createVerifier, VerifyError } from '../../../dist/npm/verifier/node.js';
import { NOW, b64, jwks, signRaw, signedByJose, suite } from './fixture.mjs';

const base = { issuer: suite.issuer, audience: suite.audience, now: NOW, jwks };

for (const engine of ['auto', 'webcrypto']) test(`the shared behavioural cases give the same verdicts as natively (engine: ${engine})`, async () => {
  const failures = [];
  for (const c of suite.cases) {
    const verifier = await createVerifier({ ...base, ...c.options, engine });
    const token = signRaw(c.alg, c.header, c.claims);
    try {
      const { claims } = await verifier.verify(token);
      if (!c.expect.ok || claims.sub !== c.claims.sub) failures.push(`${c.name}: accepted`);
    } catch (error) {
      if (!(error instanceof VerifyError)) failures.push(`${c.name}: not a VerifyError: ${error}`);
      else if (error.code !== c.expect.code || error.claim !== c.expect.claim)
        failures.push(`${c.name}: ${error.code} ${error.claim} (${error.message})`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(suite.cases.length >= 40);
});

for (const engine of ['auto', 'webcrypto']) test(`tokens signed by jose verify for every algorithm (engine: ${engine})`, async () => {
  const { jwks: set, tokens } = await signedByJose();
  assert.equal(tokens.length, 9);
  const verifier = await createVerifier({ ...base, jwks: set, typ: 'at+jwt', engine });
  for (const [alg, token] of tokens) {
    const { header, claims } = await verifier.verify(token);
    assert.equal(header.alg, alg);
    assert.equal(claims.sub, `sub-${alg}`);
  }
});

for (const [engine, cacheSize] of [['auto'], ['webcrypto'], ['auto', 4]]) test(`a passport is the signed JSON: the issuer's member order and values (engine: ${engine}, cacheSize: ${cacheSize})`, async () => {
  const verifier = await createVerifier({ ...base, engine, cacheSize });
  const header = { typ: 'JWT', kid: 'p256', alg: 'ES256' };
  const claims = { sub: 'ordered', zeta: [1.5, { b: null, a: 'caf\u00e9 "q"' }], iss: suite.issuer, exp: NOW + 60, aud: suite.audience, alpha: -0.25 };
  const token = signRaw('ES256', header, claims);
  const passport = await verifier.verify(token);
  assert.deepEqual(Object.keys(passport.header), Object.keys(header));
  assert.deepEqual(Object.keys(passport.claims), Object.keys(claims));
  assert.deepEqual(Object.keys(passport.claims.zeta[1]), ['b', 'a']);
  assert.deepEqual(passport, { header, claims });
  if (cacheSize) assert.equal(await verifier.verify(token), passport, 'a cache hit');
});

test('configuration errors are VerifyErrors too', async () => {
  await assert.rejects(createVerifier({ audience: 'a', jwks }), { code: 'ERR_CONFIGURATION_INVALID' });
  await assert.rejects(createVerifier({ ...base, algorithms: ['HS256'] }), { code: 'ERR_CONFIGURATION_INVALID' });
  await assert.rejects(createVerifier({ ...base, jwks: { nokeys: true } }), { code: 'ERR_JWKS_INVALID' });
  await assert.rejects(createVerifier({ ...base, engine: 'openssl' }), { code: 'ERR_CONFIGURATION_INVALID' });
  await assert.rejects(createVerifier({ ...base, unknownOption: 1 }), (error) => {
    assert.equal(error.code, 'ERR_CONFIGURATION_INVALID');
    assert.match(error.message, /unknownOption/);
    return true;
  });
  // Each wrong member is named, with what it must be.
  for (const [options, message] of [
    [{ ...base, clockTolerance: -1 }, /`clockTolerance` must be a whole number/],
    [{ ...base, maxTokenBytes: 1.5 }, /`maxTokenBytes` must be a whole number/],
    [{ ...base, issuer: 5 }, /`issuer` must be a string or an array of strings/],
    [{ ...base, audience: ['a', 7] }, /`audience` must be an array of strings/],
    [{ ...base, rejectPii: 'yes' }, /`rejectPii` must be true or false/],
    [{ ...base, rejectPii: null }, /`rejectPii` must be true or false/],
    [{ ...base, requiredClaims: null }, /`requiredClaims` must be an array of strings/],
    [{ ...base, remote: { dangerouslyAllowHttp: null } }, /`remote.dangerouslyAllowHttp` must be true or false/],
    [{ ...base, cacheSize: 0 }, /capacity must be above zero/],
    [{ ...base, remote: [] }, /`remote` must be an object/],
    [{ ...base, remote: { jwksUrl: 'https://id.example/jwks' } }, /unknown option `remote.jwksUrl`/],
  ]) {
    await assert.rejects(createVerifier(options), (error) => {
      assert.equal(error.code, 'ERR_CONFIGURATION_INVALID');
      assert.match(error.message, message);
      return true;
    });
  }
  // Every option index.d.ts declares is known by name to the reader.
  await createVerifier({
    issuer: [suite.issuer], audience: suite.audience, dangerouslyAcceptAnyIssuer: false,
    dangerouslyAcceptAnyAudience: false, algorithms: ['ES256'], clockTolerance: 5, maxTokenAge: 3600, typ: 'at+jwt',
    subject: 'pairwise-1', requiredClaims: ['scope'], rejectPii: true, maxTokenBytes: 8192, cacheSize: 1000, now: NOW, jwks,
    remote: {
      jwksUri: 'https://id.shop.example/jwks', timeoutMs: 2000, cooldownSeconds: 30, defaultMaxAgeSeconds: 600,
      staleIfErrorSeconds: 86400, dangerouslyAllowHttp: false,
    },
  });
  // null counts as absent for an option without a default, as it did for
  // the derived reader.
  await createVerifier({ ...base, typ: null, remote: undefined, clockTolerance: null });
});

for (const engine of ['auto', 'webcrypto']) test(`the cache keys on the whole token (engine: ${engine})`, async () => {
  const verifier = await createVerifier({ ...base, cacheSize: 8, engine });
  const claims = { iss: suite.issuer, aud: suite.audience, sub: 's', exp: NOW + 60 };
  const token = signRaw('ES256', { alg: 'ES256', kid: 'p256' }, claims);
  assert.equal((await verifier.verify(token)).claims.sub, 's');
  assert.equal((await verifier.verify(token)).claims.sub, 's');
  const forged = `${token.slice(0, token.lastIndexOf('.'))}.${b64(Buffer.alloc(64, 7))}`;
  await assert.rejects(verifier.verify(forged), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});

for (const engine of ['auto', 'webcrypto']) test(`a cached passport is refused once its time is up, and is frozen (engine: ${engine})`, async () => {
  // The real clock: exp one to two seconds away.
  const exp = Math.floor(Date.now() / 1000) + 2;
  const verifier = await createVerifier({ issuer: suite.issuer, audience: suite.audience, jwks, cacheSize: 8, engine });
  const token = signRaw('ES256', { alg: 'ES256', kid: 'p256' }, { iss: suite.issuer, aud: suite.audience, sub: 's', exp, roles: ['a'] });
  const first = await verifier.verify(token);
  const hit = await verifier.verify(token);
  assert.equal(hit, first, 'a hit answers the cached passport');
  assert.ok(Object.isFrozen(hit) && Object.isFrozen(hit.claims) && Object.isFrozen(hit.claims.roles));
  assert.throws(() => { 'use strict'; hit.claims.sub = 'someone else'; }, TypeError);
  while (Math.floor(Date.now() / 1000) < exp) await new Promise((resolve) => setTimeout(resolve, 100));
  await assert.rejects(verifier.verify(token), { code: 'ERR_JWT_EXPIRED', claim: 'exp' });
});

test('a cached passport is refused once its key set is replaced without its key', async () => {
  const issuer = await startIssuer({ cacheControl: 'no-cache' });
  try {
    const verifier = await createVerifier({ issuer: issuer.origin, audience: suite.audience, now: NOW, remote: {}, cacheSize: 8 });
    const token = tokenFor(issuer.origin);
    assert.equal((await verifier.verify(token)).claims.sub, 'remote');
    assert.equal((await verifier.verify(token)).claims.sub, 'remote');
    issuer.jwks = { keys: jwks.keys.filter((key) => key.kid !== 'p256') };
    await verifier.refresh();
    await assert.rejects(verifier.verify(token), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  } finally {
    await issuer.close();
  }
});

test('the cache holds at most cacheSize tokens, dropping the least recently used', async () => {
  const verifier = await createVerifier({ ...base, cacheSize: 2 });
  const tokens = ['a', 'b', 'c'].map((sub) => signRaw('ES256', { alg: 'ES256', kid: 'p256' }, { iss: suite.issuer, aud: suite.audience, sub, exp: NOW + 60 }));
  const [a, b, c] = await Promise.all(tokens.map((token) => verifier.verify(token)));
  assert.equal(await verifier.verify(tokens[2]), c);
  assert.equal(await verifier.verify(tokens[1]), b);
  assert.notEqual(await verifier.verify(tokens[0]), a, 'a was dropped: verified again into a new object');
  assert.equal(await verifier.verify(tokens[1]), b, 'b was used after c: kept');
});

// A local issuer for the remote tests.
async function startIssuer({ delayMs = 0, cacheControl = 'max-age=300' } = {}) {
  const state = { jwksFetches: 0, fail: false, jwks };
  const server = createServer(async (request, response) => {
    const origin = `http://127.0.0.1:${server.address().port}`;
    if (request.url === '/.well-known/openid-configuration') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks` }));
      return;
    }
    state.jwksFetches += 1;
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (state.fail) {
      response.statusCode = 503;
      response.end();
      return;
    }
    response.setHeader('content-type', 'application/json');
    response.setHeader('cache-control', cacheControl);
    response.end(typeof state.jwks === 'string' ? state.jwks : JSON.stringify(state.jwks));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${server.address().port}`;
  state.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  return state;
}

function tokenFor(issuer, kid = 'p256') {
  return signRaw('ES256', { alg: 'ES256', kid }, { iss: issuer, aud: suite.audience, sub: 'remote', exp: NOW + 600 });
}

test('remote: discovery, one fetch for concurrent requests, cooldown on unknown kid', async () => {
  const issuer = await startIssuer({ delayMs: 100 });
  try {
    const verifier = await createVerifier({ issuer: issuer.origin, audience: suite.audience, now: NOW, remote: {} });
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(tokenFor(issuer.origin))));
    assert.ok(results.every((r) => r.claims.sub === 'remote'));
    assert.equal(issuer.jwksFetches, 1);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(verifier.verify(tokenFor(issuer.origin, 'rotated')), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    }
    assert.equal(issuer.jwksFetches, 1, 'the fixed clock never leaves the 30 s cooldown');
    const snapshot = verifier.snapshot();
    assert.equal(snapshot.format, 'tessera-jwks-snapshot/1');
    assert.equal(snapshot.fetched_at, NOW);

    // Air-gapped: the issuer is down, the snapshot is enough.
    issuer.fail = true;
    const offline = await createVerifier({ issuer: issuer.origin, audience: suite.audience, now: NOW, jwks: snapshot });
    assert.equal((await offline.verify(tokenFor(issuer.origin))).claims.sub, 'remote');
  } finally {
    await issuer.close();
  }
});

test('remote: a snapshot is the served key set as JSON.parse reads it', async () => {
  const issuer = await startIssuer();
  // Members the verifier does not read come back as served: numbers (past
  // 2^53), nesting, names of Object.prototype's members, and a member
  // named __proto__, which must stay an own member and not become the
  // object's prototype.
  const served = JSON.stringify({ ...jwks, extra: { n: 1.5, list: [true, null, 'x'] } })
    .replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":"c","big":12345678901234567890,');
  issuer.jwks = served;
  try {
    const verifier = await createVerifier({ issuer: issuer.origin, audience: suite.audience, now: NOW, remote: {} });
    assert.equal((await verifier.verify(tokenFor(issuer.origin))).claims.sub, 'remote');
    const snapshot = verifier.snapshot();
    assert.deepEqual(snapshot.jwks, JSON.parse(served));
    assert.equal(Object.getPrototypeOf(snapshot.jwks), Object.prototype);
    assert.ok(Object.hasOwn(snapshot.jwks, '__proto__'));
    assert.equal(snapshot.jwks.polluted, undefined);
    assert.equal(snapshot.jwks_uri, `${issuer.origin}/jwks`);
  } finally {
    await issuer.close();
  }
});

test('remote: timeout and unavailable issuer give clear codes', async () => {
  const slow = await startIssuer({ delayMs: 2000 });
  try {
    const verifier = await createVerifier({
      issuer: slow.origin, audience: suite.audience, now: NOW,
      remote: { jwksUri: `${slow.origin}/jwks`, timeoutMs: 150 },
    });
    await assert.rejects(verifier.verify(tokenFor(slow.origin)), { code: 'ERR_JWKS_TIMEOUT' });
  } finally {
    await slow.close();
  }
  const down = await startIssuer();
  down.fail = true;
  try {
    const verifier = await createVerifier({ issuer: down.origin, audience: suite.audience, now: NOW, remote: {} });
    await assert.rejects(verifier.verify(tokenFor(down.origin)), { code: 'ERR_JWKS_UNAVAILABLE' });
  } finally {
    await down.close();
  }
  await assert.rejects(
    createVerifier({ issuer: 'http://id.example', audience: 'a', remote: {} }),
    { code: 'ERR_CONFIGURATION_INVALID' },
  );
});

test('the shared key-location cases give the same verdicts as natively', async () => {
  const failures = [];
  for (const c of suite.key_locations) {
    const remote = { dangerouslyAllowHttp: c.dangerously_allow_http === true };
    if (c.jwks_uri !== undefined) remote.jwksUri = c.jwks_uri;
    const options = { issuer: c.issuer ?? suite.issuer, audience: suite.audience, remote };
    try {
      await createVerifier(options);
      if (!c.expect.ok) failures.push(`${c.name}: accepted`);
    } catch (error) {
      if (c.expect.ok || error.code !== c.expect.code) failures.push(`${c.name}: ${error.code} (${error.message})`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(suite.key_locations.length >= 20);
});

test('a key set given as text is read strictly: a repeated member is refused', async () => {
  const text = `{"keys":[],"keys":${JSON.stringify(jwks.keys)}}`;
  await assert.rejects(createVerifier({ ...base, jwks: text }), (error) => {
    assert.equal(error.code, 'ERR_JWKS_INVALID');
    assert.match(error.message, /duplicate member `keys`/);
    return true;
  });
  const verifier = await createVerifier({ ...base, jwks: JSON.stringify(jwks) });
  assert.equal((await verifier.verify(tokenFor(suite.issuer))).claims.sub, 'remote');
});

test('remote: reading stops at the size limit instead of taking the whole body', async () => {
  let sent = 0;
  let closed;
  const finished = new Promise((resolve) => { closed = resolve; });
  const server = await listen((request, response) => {
    response.setHeader('content-type', 'application/json');
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    response.write('{"keys":[');
    // Up to 32 MB, as fast as the client reads, until it hangs up.
    const pump = () => {
      while (sent < 32 * 1024 * 1024) {
        sent += chunk.length;
        if (!response.write(chunk)) return response.once('drain', pump);
      }
      response.end(']}');
    };
    response.on('close', () => closed(sent));
    pump();
  });
  try {
    await firstFetchRefused(server.origin, /larger than 524288 bytes/);
    const total = await finished;
    // The limit is 512 KiB; socket buffers hold a few MB at most.
    assert.ok(total < 8 * 1024 * 1024, `the issuer sent ${total} bytes before the client hung up`);
  } finally {
    await server.close();
  }
});

/** A loopback server for one remote test: its origin, and `close()`. */
async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A verifier with keys at `${origin}/jwks` whose first token fails with
 * ERR_JWKS_UNAVAILABLE and a message matching `reason`; returns it. */
async function firstFetchRefused(origin, reason) {
  const verifier = await createVerifier({
    issuer: origin, audience: suite.audience, now: NOW, remote: { jwksUri: `${origin}/jwks` },
  });
  await assert.rejects(verifier.verify(tokenFor(origin)), (error) => {
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
    assert.match(error.message, reason);
    return true;
  });
  return verifier;
}

for (const engine of ['auto', 'webcrypto']) test(`remote: a stale key set answers at once and is refreshed in the background (engine: ${engine})`, async () => {
  const issuer = await startIssuer({ delayMs: 300 });
  try {
    // Fetched 700 s ago: past the 600 s default max-age, within stale-if-error.
    const stale = { format: 'tessera-jwks-snapshot/1', fetched_at: NOW - 700, jwks };
    const verifier = await createVerifier({
      issuer: issuer.origin, audience: suite.audience, now: NOW, engine, jwks: stale,
      remote: { jwksUri: `${issuer.origin}/jwks` },
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => verifier.verify(tokenFor(issuer.origin))));
    assert.ok(results.every((passport) => passport.claims.sub === 'remote'));
    const before = verifier.snapshot();
    assert.equal(before.fetched_at, NOW - 700, 'answered before the fetch ended');
    // The key set read from a snapshot is handed back as its JWKS.
    assert.deepEqual(before.jwks, jwks);
    for (let waited = 0; verifier.snapshot().fetched_at !== NOW; waited += 20) {
      assert.ok(waited < 5000, 'the background fetch never ended');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(issuer.jwksFetches, 1, 'one background fetch for every stale answer');
    assert.equal((await verifier.verify(tokenFor(issuer.origin))).claims.sub, 'remote');
    assert.equal(issuer.jwksFetches, 1);
  } finally {
    await issuer.close();
  }
});

test('remote: a set that is stale at once keeps being refreshed, one fetch at a time', async () => {
  // No cooldown and `no-cache`: every verification finds the set stale and
  // may start a background fetch, including while one is ending. None may
  // be left begun and never driven (which would stop every refresh).
  const issuer = await startIssuer({ cacheControl: 'no-cache', delayMs: 5 });
  try {
    const verifier = await createVerifier({
      issuer: issuer.origin, audience: suite.audience, now: NOW, remote: { jwksUri: `${issuer.origin}/jwks`, cooldownSeconds: 0 },
    });
    for (let round = 0; round < 200; round++) {
      assert.equal((await verifier.verify(tokenFor(issuer.origin))).claims.sub, 'remote');
      if (round % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      await verifier.refresh();
      const before = issuer.jwksFetches;
      await verifier.verify(tokenFor(issuer.origin));
      for (let waited = 0; issuer.jwksFetches === before; waited += 10) {
        assert.ok(waited < 3000, 'a stale set is no longer refreshed');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } finally {
    await issuer.close();
  }
});

test('remote: an answer a redirect brought from where keys may not come from is refused', async () => {
  let served = 0;
  const server = await listen((request, response) => {
    const port = new URL(`http://${request.headers.host}`).port;
    if (request.url === '/jwks') {
      // 0.0.0.0 reaches this machine, but is no loopback name or address.
      response.statusCode = 302;
      response.setHeader('location', `http://0.0.0.0:${port}/moved`);
      response.end();
      return;
    }
    served += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(jwks));
  });
  const { origin } = server;
  try {
    const verifier = await firstFetchRefused(origin, /redirected to a URL keys may not be fetched from/);
    assert.equal(served, 1, 'the runtime followed the redirect; the answer was refused');
    // The failure is recorded: within the cooldown, no new fetch.
    await assert.rejects(verifier.verify(tokenFor(origin)), { code: 'ERR_JWKS_UNAVAILABLE' });
    assert.equal(served, 1);
    // A snapshot's jwks_uri is a key location like any other: checked
    // before it could ever be requested.
    const snapshot = { format: 'tessera-jwks-snapshot/1', fetched_at: NOW, jwks, jwks_uri: 'http://10.0.0.5/keys' };
    await assert.rejects(
      createVerifier({ issuer: origin, audience: suite.audience, now: NOW, jwks: snapshot, remote: {} }),
      (error) => {
        assert.equal(error.code, 'ERR_CONFIGURATION_INVALID');
        assert.match(error.message, /snapshot's jwks_uri is refused: plain http/);
        return true;
      },
    );
  } finally {
    await server.close();
  }
});

test('remote: 100 concurrent verifications against an issuer that is down cost one fetch per cooldown', async () => {
  const down = await startIssuer({ delayMs: 50 });
  down.fail = true;
  try {
    const verifier = await createVerifier({ issuer: down.origin, audience: suite.audience, now: NOW, remote: {} });
    for (const wave of [1, 2]) {
      const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => verifier.verify(tokenFor(down.origin))));
      assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason.code === 'ERR_JWKS_UNAVAILABLE'), `wave ${wave}`);
      // The fixed clock never leaves the first failure's 30 s cooldown.
      assert.equal(down.jwksFetches, 1, `wave ${wave}`);
    }
  } finally {
    await down.close();
  }
});

// workerd's node:crypto takes ECDSA signatures as DER only, so its engine
// turns the JWS form (r then s) into DER. Node checks that DER here, on
// signatures it made, until r or s has had both a leading zero byte (dropped)
// and its high bit set (a zero put first), and s a leading zero byte that a
// shortened signature leaves out.
test('the engine with derEcdsa checks ES256 and ES384 signatures as node:crypto with DER', async () => {
  const nodeCrypto = await import('node:crypto');
  const { nodeEngine } = await import('../../../dist/npm/verifier/node-engine.js');
  const engine = nodeEngine(nodeCrypto, undefined, true);
  for (const [alg, curve, hash, size] of [['ES256', 'P-256', 'sha256', 32], ['ES384', 'P-384', 'sha384', 48]]) {
    const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('ec', { namedCurve: curve });
    const key = engine.importKey(publicKey.export({ format: 'jwk' }));
    const seen = { leadingZero: 0, highBit: 0, shortened: 0 };
    for (let i = 0; (seen.leadingZero < 2 || seen.highBit < 2 || seen.shortened < 1) && i < 20_000; i++) {
      const data = Buffer.from(`token ${i}`);
      const signature = nodeCrypto.sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.equal(signature.length, 2 * size);
      const [r, s] = [signature.subarray(0, size), signature.subarray(size)];
      for (const half of [r, s]) {
        if (half[0] === 0) seen.leadingZero++;
        else if (half[0] >= 0x80) seen.highBit++;
      }
      assert.equal(engine.verify(alg, key, new Uint8Array(data), new Uint8Array(signature)), true, `${alg} signature ${i}`);
      // s with its leading zero byte left out is still the same number, and
      // DER would take it; the JWS form is exactly `size` bytes each.
      if (s[0] === 0) {
        seen.shortened++;
        assert.equal(engine.verify(alg, key, new Uint8Array(data), new Uint8Array(Buffer.concat([r, s.subarray(1)]))), false);
      }
      if (i % 64 === 0) {
        const tampered = new Uint8Array(signature);
        tampered[size + 3] ^= 1;
        assert.equal(engine.verify(alg, key, new Uint8Array(data), tampered), false);
        assert.equal(engine.verify(alg, key, new Uint8Array(data), new Uint8Array(0)), false);
      }
    }
    assert.ok(seen.leadingZero >= 2 && seen.highBit >= 2 && seen.shortened >= 1, `${alg}: ${JSON.stringify(seen)}`);
  }
});
