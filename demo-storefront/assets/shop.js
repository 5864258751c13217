// The demo shop's page script. It never sees a token: every API call goes
// through window.Tessera.fetch, which attaches the passport's bearer token
// for this origin only. What the page learns about the customer is the
// pseudonymous `sub` in the widget's events, and it does not even keep that.

const api = (path, init) => window.Tessera.fetch(`/demo/api${path}`, init);
const status = document.getElementById('status');
const say = (text) => { status.textContent = text; };
const euros = (cents) => `€${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
// The widget's loader is async, so it may restore a session before this
// script runs, and this script would then hear no `tessera:login`: the
// element's `passport` property says whether someone is signed in already.
let signedIn = Boolean(document.querySelector('tessera-login')?.passport);

// ---- Catalog page: a basket kept in memory, ordered as the passport holder.
const basket = new Map();
const names = new Map();
for (const button of document.querySelectorAll('button.add')) {
  names.set(button.dataset.sku, { name: button.dataset.name, cents: Number(button.dataset.priceCents) });
  button.addEventListener('click', () => {
    basket.set(button.dataset.sku, (basket.get(button.dataset.sku) || 0) + 1);
    say(`${button.dataset.name} added to the basket.`);
    renderBasket();
  });
}

function renderBasket() {
  const lines = document.getElementById('basket-lines');
  if (!lines) return;
  lines.replaceChildren();
  let total = 0;
  for (const [sku, quantity] of basket) {
    const { name, cents } = names.get(sku);
    total += cents * quantity;
    const item = document.createElement('li');
    item.textContent = `${quantity} × ${name} (${euros(cents * quantity)})`;
    lines.append(item);
  }
  document.getElementById('basket-empty').hidden = basket.size > 0;
  document.getElementById('basket-total').textContent = basket.size ? `Total ${euros(total)}` : '';
  document.getElementById('place-order').disabled = !(signedIn && basket.size);
  document.getElementById('basket-hint').hidden = signedIn;
}

const placeButton = document.getElementById('place-order');
placeButton?.addEventListener('click', async () => {
  placeButton.disabled = true;
  const items = [...basket].map(([sku, quantity]) => ({ sku, quantity }));
  try {
    const response = await api('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    if (response.status === 401) return sessionEnded();
    const body = await response.json();
    if (!response.ok) return say(`The order was not placed: ${body.error?.message ?? response.status}`);
    basket.clear();
    say(`Order ${body.id} placed. You can find it under My orders.`);
  } catch {
    say('The shop cannot be reached. Please try again.');
  } finally {
    renderBasket();
  }
});

// ---- My orders page.
async function loadOrders() {
  const list = document.getElementById('order-list');
  if (!list) return;
  list.replaceChildren();
  document.getElementById('orders-signed-out').hidden = signedIn;
  document.getElementById('export').disabled = !signedIn;
  document.getElementById('orders-empty').hidden = true;
  if (!signedIn) {
    document.getElementById('export-output').hidden = true;
    return;
  }
  const response = await api('/orders');
  if (response.status === 401) return sessionEnded();
  const { orders } = await response.json();
  document.getElementById('orders-empty').hidden = orders.length > 0;
  for (const order of orders) {
    const item = document.createElement('li');
    item.className = 'order';
    const heading = document.createElement('h2');
    heading.textContent = `Order ${order.id}`;
    const when = document.createElement('p');
    when.textContent = `${new Date(order.placed_at * 1000).toLocaleString()} · ${euros(order.total_cents)}`;
    const lines = document.createElement('ul');
    for (const line of order.items) {
      const entry = document.createElement('li');
      entry.textContent = `${line.quantity} × ${line.name}`;
      lines.append(entry);
    }
    item.append(heading, when, lines);
    list.append(item);
  }
}

document.getElementById('export')?.addEventListener('click', async () => {
  const response = await api('/me/export');
  if (response.status === 401) return sessionEnded();
  const output = document.getElementById('export-output');
  output.textContent = JSON.stringify(await response.json(), null, 2);
  output.hidden = false;
  say('This is everything the shop holds about you.');
});

function sessionEnded() {
  signedIn = false;
  say('Your session has ended. Please sign in again.');
  renderBasket();
  loadOrders();
}

// ---- The widget's events: the page only learns whether someone is signed in.
document.addEventListener('tessera:login', () => {
  signedIn = true;
  renderBasket();
  loadOrders().catch(() => say('The shop cannot be reached. Please try again.'));
});
document.addEventListener('tessera:logout', () => {
  signedIn = false;
  say('You are signed out.');
  renderBasket();
  loadOrders();
});
document.addEventListener('tessera:error', (event) => {
  if (event.detail?.code === 'session_expired') sessionEnded();
});
renderBasket();
loadOrders();
