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
