// The event outbox across a crash: `tessera dev` is killed with SIGKILL
// while a Logto webhook is sending it events and its shop endpoint is
// down; started again on the same data folder, it delivers every event it
// had acknowledged once the shop is back, each subject's in the order the
// IdP sent them, signed with the endpoint's secret (checked by the
// Standard Webhooks reference library, npm `standardwebhooks`); the e-mail addresses
// the IdP sent are in no log and no file of the data folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import standardwebhooks from 'standardwebhooks';
import { freePort, startTessera } from './support.mjs';

const LOGTO_KEY = 'crash-test-hook-key';
let dataDir;
let tessera;
let shop;
let up = false;
const received = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
  // The shop: down (503) until told otherwise; then it keeps each body.
  shop = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      if (!up) { response.writeHead(503).end(); return; }
      received.push({ id: request.headers['webhook-id'], timestamp: request.headers['webhook-timestamp'], signature: request.headers['webhook-signature'], body });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await tessera?.stop();
  await new Promise((resolve) => shop.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

function logto(event, user, suspended) {
  const body = JSON.stringify({ event, createdAt: new Date().toISOString(), data: { id: user, primaryEmail: `${user}@example.test`, isSuspended: suspended } });
  return { body, signature: createHmac('sha256', LOGTO_KEY).update(body).digest('hex') };
}

test('kill -9 with deliveries pending and events arriving loses nothing acknowledged', async () => {
  const port = await freePort();
  tessera = await startTessera({ dataDir, port });
  const api = (path, body) => fetch(`${tessera.server}${path}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { authorization: `Bearer ${tessera.adminToken}`, 'content-type': 'application/json' },
  }).then((answer) => answer.json());
  const source = await api('/api/tenants/demo/event-sources', { label: 'Logto', format: 'logto', secret: LOGTO_KEY });
  const { secret } = await api('/api/tenants/demo/event-endpoints', { url: `http://127.0.0.1:${shop.address().port}/hooks` });

  // The IdP sends, for four users in turn: suspended, reactivated, deleted.
  const sent = [];
  for (let round = 0; round < 3; round++) {
    for (let user = 0; user < 4; user++) {
      const [event, suspended] = [['User.SuspensionStatus.Updated', true], ['User.SuspensionStatus.Updated', false], ['User.Deleted', false]][round];
      sent.push({ user: `crash-${user}`, ...logto(event, `crash-${user}`, suspended) });
    }
  }
  const acknowledged = [];
  let killed;
  for (const [index, { user, body, signature }] of sent.entries()) {
    // Killed partway: the rest is sent to a server that is gone.
    if (index === 8) killed = tessera.kill();
    const answer = await fetch(source.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'logto-signature-sha-256': signature } })
      .catch(() => null);
    if (answer?.status === 200) acknowledged.push({ user, body });
  }
  await killed;
  const firstLog = tessera.output();
  assert.ok(acknowledged.length >= 8, `${acknowledged.length} acknowledged before the kill`);

  // Started again on the same data folder; the shop comes back.
  tessera = await startTessera({ dataDir, port });
  up = true;
  const deadline = Date.now() + 40_000;
  const unique = () => new Set(received.map((delivery) => delivery.id)).size;
  while (unique() < acknowledged.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(unique(), acknowledged.length, 'every acknowledged event was delivered');

  // Signed with the endpoint's secret, as the Standard Webhooks reference
  // library checks it; each subject's in the IdP's order.
  const webhook = new standardwebhooks.Webhook(secret);
  for (const delivery of received) {
    const verified = webhook.verify(delivery.body, {
      'webhook-id': delivery.id, 'webhook-timestamp': delivery.timestamp, 'webhook-signature': delivery.signature,
    });
    assert.ok(['user.disabled', 'user.enabled', 'user.deleted'].includes(verified.type));
    assert.ok(!delivery.body.includes('@example.test'), 'no e-mail relayed');
  }
  // The IdP sent e-mail addresses: none is in the logs or the data folder.
  for (const [name, text] of [['first log', firstLog], ['second log', tessera.output()],
    ...readdirSync(dataDir).map((file) => [file, readFileSync(join(dataDir, file)).toString('latin1')])]) {
    assert.ok(!text.includes('@example.test'), `an e-mail address in ${name}`);
  }
  const firstSeen = [];
  for (const delivery of received) if (!firstSeen.some((seen) => seen.id === delivery.id)) firstSeen.push(delivery);
  for (let user = 0; user < 4; user++) {
    const types = firstSeen.map((delivery) => JSON.parse(delivery.body)).filter((event) => event.data.sub === `crash-${user}`).map((event) => event.type);
    const expected = acknowledged.filter((event) => event.user === `crash-${user}`)
      .map(({ body }) => ({ 'User.Deleted': 'user.deleted' }[JSON.parse(body).event] ?? (JSON.parse(body).data.isSuspended ? 'user.disabled' : 'user.enabled')));
    assert.deepEqual(types, expected, `crash-${user}`);
  }
});
