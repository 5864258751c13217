// `cargo xtask bench events`: IdP events through a release `tessera dev`.
// A Logto source and a shop endpoint (a loopback HTTP server that notes
// when each user's event arrives) are set up through the admin API; then
// 2,000 signed Logto `User.Deleted` webhooks, 32 at a time, give the
// events verified and accepted per second and delivered per second; then
// 200 more, one at a time, give the time from the IdP's request to the
// shop's endpoint being called to erase (median and p99). Arguments: the
// server's URL and an admin token.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

const [server, token] = process.argv.slice(2);
const KEY = 'bench-hook-signing-key';
const arrivals = new Map();
const waiting = new Map();
const shop = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    const at = performance.now();
    const sub = JSON.parse(body).data.sub;
    if (!arrivals.has(sub)) arrivals.set(sub, at);
    waiting.get(sub)?.(at);
    response.writeHead(204).end();
  });
});
await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
const api = async (method, path, body) => {
  const answer = await fetch(`${server}${path}`, {
    method, body: body && JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  return answer.status === 204 ? null : answer.json();
};
// Only the bench's endpoint: the demo shop's is removed.
for (const endpoint of await api('GET', '/api/tenants/demo/event-endpoints')) {
  await api('DELETE', `/api/tenants/demo/event-endpoints/${endpoint.id}`);
}
const source = await api('POST', '/api/tenants/demo/event-sources', { label: 'bench', format: 'logto', secret: KEY });
await api('POST', '/api/tenants/demo/event-endpoints', { url: `http://127.0.0.1:${shop.address().port}/hooks` });

const send = async (user) => {
  const body = JSON.stringify({ event: 'User.Deleted', createdAt: new Date().toISOString(),
    data: { id: user, primaryEmail: `${user}@example.test`, name: 'Bench User' } });
  const answer = await fetch(source.url, { method: 'POST', body, headers: {
    'content-type': 'application/json', 'logto-signature-sha-256': createHmac('sha256', KEY).update(body).digest('hex'),
  } });
  if (answer.status !== 200) throw new Error(`${answer.status} ${await answer.text()}`);
};

// Throughput.
const total = 2000;
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: 32 }, async () => {
  while (next < total) await send(`load-${next++}`);
}));
const accepted = performance.now();
while (arrivals.size < total) await new Promise((resolve) => setTimeout(resolve, 5));
const delivered = Math.max(...arrivals.values());

// Latency, one at a time.
const latencies = [];
for (let index = 0; index < 200; index++) {
  const user = `latency-${index}`;
  const arrived = new Promise((resolve) => waiting.set(user, resolve));
  const sent = performance.now();
  await send(user);
  latencies.push((await arrived) - sent);
}
latencies.sort((a, b) => a - b);
const at = (share) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))];
console.log(`events ${(total / ((accepted - started) / 1000)).toFixed(0)} ${(total / ((delivered - started) / 1000)).toFixed(0)} ${at(0.5).toFixed(1)} ${at(0.99).toFixed(1)}`);
shop.close();
