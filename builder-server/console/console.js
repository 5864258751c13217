// The console's only script: an ES module served from our origin, pinned
// by its integrity value, under a CSP without 'unsafe-inline'. The pages
// work without it; it adds the tenants' live health.

// Each health cell names the URL that checks its tenant; the answer is
// written into the cell (a polite live region), never as HTML.
for (const cell of document.querySelectorAll('[data-health]')) {
  fetch(cell.dataset.health, { credentials: 'same-origin', headers: { accept: 'application/json' } })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .then((health) => {
      cell.dataset.state = health.ok ? 'ok' : 'failed';
      const checked = new Date(health.checked_at * 1000).toLocaleTimeString(document.documentElement.lang);
      cell.textContent = health.ok
        ? `${cell.dataset.ok} (${cell.dataset.keysWord}: ${health.keys}, ${health.algorithms.join(', ')}); ${cell.dataset.checked} ${checked}`
        : `${cell.dataset.failed}: ${health.problem}; ${cell.dataset.checked} ${checked}`;
    })
    .catch((error) => {
      cell.dataset.state = 'failed';
      cell.textContent = `${cell.dataset.failed}: ${error.message}`;
    });
}

// Test sign-in: when the widget on the page signs in, the access token goes
// (attached by Tessera.fetch, never read here) to the server, which
// verifies it as the shop's API would; the answer is written as text.
const trial = document.querySelector('[data-try]');
if (trial) {
  const status = document.getElementById('passport-status');
  const table = document.getElementById('passport');
  const withheldList = document.getElementById('withheld');
  const texts = trial.dataset;
  trial.addEventListener('tessera:login', async (event) => {
    const body = new URLSearchParams({ csrf: texts.csrf, withheld: (event.detail.withheld ?? []).join(',') });
    try {
      const response = await window.Tessera.fetch(texts.try, { method: 'POST', body, credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(String(response.status));
      show(await response.json());
    } catch (error) {
      status.dataset.state = 'failed';
      status.textContent = `${texts.refused} ${error.message}`;
    }
  });
  function show(result) {
    status.dataset.state = result.ok ? 'ok' : 'failed';
    status.textContent = result.ok ? `${texts.verified} ${result.subject}` : `${texts.refused} ${result.problem}`;
    const rows = table.tBodies[0];
    rows.replaceChildren();
    for (const claim of result.claims) {
      const row = rows.insertRow();
      row.dataset.personal = String(claim.personal);
      row.insertCell().textContent = claim.name;
      row.insertCell().textContent = claim.personal ? `${texts.hidden} ${texts.personal}` : claim.value;
    }
    table.hidden = result.claims.length === 0;
    withheldList.replaceChildren();
    const personal = result.claims.filter((claim) => claim.personal).length;
    const item = document.createElement('li');
    item.dataset.state = result.withheld.length || personal ? 'failed' : 'ok';
    item.textContent = result.withheld.length ? `${texts.withheld} ${result.withheld.join(', ')}` : personal ? texts.personal : texts.clean;
    withheldList.append(item);
    withheldList.hidden = false;
  }
}

// Copy buttons: each names the element whose text it copies; the result is
// said in the button's own live region. Hidden until this script runs.
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  const label = button.textContent;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(document.getElementById(button.dataset.copy).textContent);
      button.textContent = button.dataset.copied;
    } catch {
      button.textContent = button.dataset.failed;
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
}

// The theme studio: each change goes to the server, which answers the
// draft as CSS and its contrast pairs; the CSS goes to every preview frame
// (sandboxed, so only by message) and the pairs into the table, as text.
const studio = document.querySelector('form[data-studio]');
if (studio) {
  const frames = [...document.querySelectorAll('iframe[data-preview]')];
  const texts = document.getElementById('studio-texts').dataset;
  const refusal = document.getElementById('studio-refusal');
  let latest = { id: 0, css: '' };
  // For `cargo xtask bench studio`: when each change was made, and when
  // each frame said it had painted it.
  window.studioPaints = [];
  const send = (frame) => frame.contentWindow?.postMessage({ type: 'tessera:studio', id: latest.id, css: latest.css }, '*');
  const showPairs = (pairs) => {
    for (const pair of pairs) {
      const row = document.getElementById(`pair-${pair.palette}-${pair.foreground}-${pair.background}`);
      if (!row) continue;
      const ok = pair.passes;
      row.dataset.state = ok ? 'ok' : 'failed';
      row.querySelector('.ratio').textContent = `${pair.ratio.toFixed(2)}:1`;
      const verdict = row.querySelector('.verdict');
      verdict.textContent = ok ? texts.passes : pair.enforced ? texts.refused : texts.warning;
      if (!ok && pair.suggestion) {
        const use = document.createElement('button');
        use.type = 'button';
        use.className = 'link';
        use.dataset.use = `${pair.palette}_${pair.foreground}`;
        use.dataset.color = pair.suggestion;
        use.textContent = `${texts.use} ${pair.suggestion}`;
        verdict.append(' ', use);
      }
    }
  };
  const update = async () => {
    const id = latest.id + 1;
    latest = { ...latest, id };
    const started = performance.now();
    const response = await fetch(studio.dataset.studio, {
      method: 'POST',
      body: new URLSearchParams(new FormData(studio)),
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) return;
    const result = await response.json();
    if (id !== latest.id) return; // a newer change is on its way
    for (const input of studio.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    for (const error of studio.querySelectorAll('p.error')) error.hidden = true;
    refusal.textContent = result.message ?? '';
    if (result.field) {
      document.getElementById(result.field)?.setAttribute('aria-invalid', 'true');
      const error = document.getElementById(`${result.field}-error`);
      if (error) {
        error.textContent = result.message;
        error.hidden = false;
      }
    }
    if (!result.css) return;
    latest = { id, css: result.css };
    window.studioPaints.push({ id, started, painted: [] });
    frames.forEach(send);
    showPairs(result.pairs);
  };
  studio.addEventListener('input', (event) => {
    const shown = document.getElementById(`${event.target.id}-value`);
    if (shown) shown.textContent = event.target.value;
    update();
  });
  document.addEventListener('click', (event) => {
    const use = event.target.closest?.('button[data-use]');
    if (!use) return;
    const input = document.getElementById(use.dataset.use);
    input.value = use.dataset.color;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.focus();
  });
  // The state every preview shows, drawn by the widget itself.
  const state = document.getElementById('preview-state');
  const sendState = (frame) => frame.contentWindow?.postMessage({ type: 'tessera:state', state: state.value }, '*');
  state?.addEventListener('change', () => frames.forEach(sendState));
  window.addEventListener('message', (event) => {
    const frame = frames.find((candidate) => candidate.contentWindow === event.source);
    if (!frame) return;
    if (event.data?.type === 'tessera:ready') {
      send(frame);
      if (state && state.value !== 'signed-out') sendState(frame);
    }
    if (event.data?.type === 'tessera:painted') {
      window.studioPaints.find((paint) => paint.id === event.data.id)?.painted.push(performance.now());
    }
  });
  update();
}

// In a preview frame: the studio's draft, applied as a constructed
// stylesheet (the snippet's policy forbids inline styles), from the page
// that framed this one only.
if (document.documentElement.hasAttribute('data-preview')) {
  const sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const states = ['signed-out', 'loading', 'error', 'session-ended', 'signed-in'];
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent) return;
    if (event.data?.type === 'tessera:state' && states.includes(event.data.state)) {
      // A new element in the state asked for; the old one unmounts.
      const current = document.querySelector('tessera-login');
      const next = current.cloneNode(false);
      if (event.data.state === 'signed-out') next.removeAttribute('preview');
      else next.setAttribute('preview', event.data.state);
      current.replaceWith(next);
      return;
    }
    if (event.data?.type !== 'tessera:studio') return;
    sheet.replaceSync(String(event.data.css));
    requestAnimationFrame(() => requestAnimationFrame(() => window.parent.postMessage({ type: 'tessera:painted', id: event.data.id }, '*')));
  });
  window.parent.postMessage({ type: 'tessera:ready' }, '*');
}

// The texts editor: each override checked by the server as it is typed
// (the rules a save applies), the answer shown beside it as text.
const textsForm = document.querySelector('form[data-texts]');
if (textsForm) {
  const csrf = textsForm.querySelector('input[name=csrf]').value;
  const pending = new Map();
  textsForm.addEventListener('input', (event) => {
    const input = event.target.closest('input[data-message]');
    if (!input) return;
    clearTimeout(pending.get(input));
    pending.set(input, setTimeout(async () => {
      const body = new URLSearchParams({ csrf, id: input.dataset.message, text: input.value });
      const response = await fetch(textsForm.dataset.texts, { method: 'POST', body, credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!response.ok) return;
      const { error } = await response.json();
      const shown = document.getElementById(`${input.id}-error`);
      shown.textContent = error ?? '';
      shown.hidden = !error;
      if (error) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }, 150));
  });
}

// Logos: the chosen file is read here (SVG as text, PNG as base64) into the
// form's `logo` field; the server sanitises and checks it like any logo.
// No file chosen removes the logo.
for (const form of document.querySelectorAll('form[data-logo]')) {
  const file = form.querySelector('input[type=file]');
  const field = form.querySelector('input[name=logo]');
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) {
      field.value = '';
    } else if (chosen.type === 'image/svg+xml' || chosen.name.endsWith('.svg')) {
      field.value = JSON.stringify({ type: 'svg', markup: await chosen.text() });
    } else {
      const bytes = new Uint8Array(await chosen.arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      field.value = JSON.stringify({ type: 'png', base64: btoa(binary) });
    }
  });
}
