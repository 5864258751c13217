// The development issuer of the real `tessera dev` binary, signed in to by
// npm `openid-client` (a certified OpenID relying party), unchanged: discovery,
// authorization code with PKCE S256, the consent form, the token exchange and
// openid-client's own ID-token validation (signature, iss, aud, nonce, iss
// response parameter). Run by `cargo xtask test` after the Rust tests built
// target/debug/tessera.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { freePort } from '../../../tests/support.mjs';

const binary = new URL('../../../target/debug/tessera', import.meta.url).pathname;
let server;
let base;
let dataDir;
// Everything the server writes after its start-up banner: the logs.
let logs = '';
// Every secret and personal value the tests saw, to look for in the logs.
const secrets = [];

before(async () => {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-interop-'));
  base = `http://127.0.0.1:${port}`;
  server = spawn(binary, ['dev', '--port', String(port), '--data-dir', dataDir, '--widget-dir', join(dataDir, 'none')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'debug,sqlx=warn' },
  });
  server.stderr.on('data', (chunk) => {
    logs += chunk;
  });
  await new Promise((resolve, reject) => {
    let output = '';
    server.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready in')) resolve();
    });
    server.on('exit', (code) => reject(new Error(`tessera dev exited with ${code}`)));
  });
});

after(() => {
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

async function signIn(user, scope = 'openid') {
  const issuer = new URL(`${base}/dev/oidc`);
  const config = await client.discovery(issuer, 'demo', undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const nonce = client.randomNonce();
  const state = client.randomState();
  const redirectUri = `${base}/demo/`;
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, code_challenge: codeChallenge,
    code_challenge_method: 'S256', nonce, state, ui_locales: 'de',
  });
  // The user: open the page, pick a demo user, allow.
  const page = await fetch(authorizationUrl);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /lang="de"/);
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name, value.replaceAll('&amp;', '&').replaceAll('&quot;', '"'));
  }
  form.set('user', user);
  form.set('decision', 'allow');
  const decision = await fetch(`${base}/dev/oidc/authorize`, { method: 'POST', body: form, redirect: 'manual' });
  assert.equal(decision.status, 303);
  const callback = new URL(decision.headers.get('location'));
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state,
  });
  secrets.push(tokens.access_token, tokens.id_token, codeVerifier, callback.searchParams.get('code'), nonce);
  if (tokens.refresh_token) secrets.push(tokens.refresh_token);
  return { config, tokens };
}

test('openid-client signs in against the development issuer unchanged', async () => {
  const { tokens } = await signIn('ada');
  const claims = tokens.claims();
  assert.equal(claims.iss, `${base}/dev/oidc`);
  assert.equal(claims.aud, 'demo');
  assert.ok(claims.sub.length >= 20);
  for (const personal of ['email', 'name', 'given_name', 'family_name', 'preferred_username']) {
    assert.equal(claims[personal], undefined, `${personal} must not be in the ID token`);
  }
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  const [header] = tokens.access_token.split('.');
  assert.equal(JSON.parse(Buffer.from(header, 'base64url')).typ, 'at+jwt');
});

test('the same user gets the same pairwise sub, another user another', async () => {
  const first = (await signIn('grace')).tokens.claims().sub;
  const again = (await signIn('grace')).tokens.claims().sub;
  const other = (await signIn('alan')).tokens.claims().sub;
  assert.equal(first, again);
  assert.notEqual(first, other);
});

test('a refreshed ID token keeps the authentication it stands for', async () => {
  const { config, tokens } = await signIn('ada', 'openid offline_access');
  const original = tokens.claims();
  // auth_time counts seconds: let one pass, so a new one would show.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  // openid-client validates the refreshed ID token (signature, iss, aud, azp).
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  secrets.push(refreshed.access_token, refreshed.id_token, refreshed.refresh_token);
  const claims = refreshed.claims();
  assert.ok(claims.iat > original.iat);
  // OpenID Connect Core 12.2: the original auth_time, the same sub and
  // session (oidc-client-ts refuses a refresh whose auth_time changed).
  assert.equal(claims.auth_time, original.auth_time);
  assert.equal(claims.sub, original.sub);
  assert.equal(claims.sid, original.sid);
});

test('end_session with id_token_hint alone returns to the registered URI and ends the session', async () => {
  const { config, tokens } = await signIn('grace', 'openid offline_access');
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: `${base}/demo/`, state: 'bye',
  });
  // RP-Initiated Logout 1.0 section 2: the hint alone names the client.
  logout.searchParams.delete('client_id');
  const response = await fetch(logout, { redirect: 'manual' });
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), `${base}/demo/?state=bye`);
  // The session's refresh tokens are revoked.
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (error) => {
    assert.equal(error.error, 'invalid_grant');
    return true;
  });
});

test('the server logs requests but no token, code, verifier or personal data', () => {
  assert.match(logs, /path=\/dev\/oidc\/token/, 'the token requests were logged');
  for (const secret of secrets) {
    assert.ok(!logs.includes(secret), 'a token, code, verifier or nonce reached the logs');
  }
  for (const personal of ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', '@example.test']) {
    assert.ok(!logs.includes(personal), `${personal} reached the logs`);
  }
  assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\./.test(logs), 'something JWT-shaped reached the logs');
});
