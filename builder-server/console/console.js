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
      cell.textContent = health.ok
        ? `${cell.dataset.ok} (${cell.dataset.keysWord}: ${health.keys}, ${health.algorithms.join(', ')})`
        : `${cell.dataset.failed}: ${health.problem}`;
    })
    .catch((error) => {
      cell.dataset.state = 'failed';
      cell.textContent = `${cell.dataset.failed}: ${error.message}`;
    });
}
