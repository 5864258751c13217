// ---- Tessera loader: defines <tessera-login> ----
// This file is appended to the wasm-bindgen glue by `cargo xtask dist`, so one
// module carries both: the snippet pins this file with Subresource Integrity,
// and this file pins the WebAssembly with the integrity value written below,
// so the chain of trust runs from the shop's page to the wasm.
const TESSERA_WASM = '__TESSERA_WASM__';
const TESSERA_WASM_INTEGRITY = '__TESSERA_WASM_INTEGRITY__';
const TESSERA_CSS = '__TESSERA_CSS__';
// The session module (code exchange, ID-token check, refresh rotation), its
// glue and its wasm: fetched only when a sign-in returns or a session must
// be renewed, so a visitor who never signs in never downloads them, and a
// signed-in page view only when it renews.
const TESSERA_SESSION_GLUE = '__TESSERA_SESSION_GLUE__';
const TESSERA_SESSION_GLUE_INTEGRITY = '__TESSERA_SESSION_GLUE_INTEGRITY__';
const TESSERA_SESSION_WASM = '__TESSERA_SESSION_WASM__';
const TESSERA_SESSION_WASM_INTEGRITY = '__TESSERA_SESSION_WASM_INTEGRITY__';
// In the single-file variant (`tessera.single.js`) both wasm modules (base64),
// the session module's glue (the binding `tesseraSessionModule`) and the
// widget's stylesheet are inlined here, so one file, pinned by one integrity
// value, carries everything; in the standard build the three constants are
// empty strings.
const TESSERA_INLINE_WASM = __TESSERA_INLINE_WASM__;
const TESSERA_INLINE_SESSION_WASM = __TESSERA_INLINE_SESSION_WASM__;
const TESSERA_INLINE_CSS = __TESSERA_INLINE_CSS__;
let tesseraInlineSheet;

let tesseraReady;
let tesseraLoaded = false;
function tesseraLoad() {
  if (!tesseraReady) {
    tesseraReady = __wbg_init({ module_or_path: tesseraWasmSource(TESSERA_INLINE_WASM, TESSERA_WASM, TESSERA_WASM_INTEGRITY) });
    tesseraReady.then(() => { tesseraLoaded = true; }, () => {});
  }
  return tesseraReady;
}

function tesseraWasmSource(inline, name, integrity) {
  return inline
    ? Uint8Array.from(atob(inline), (c) => c.charCodeAt(0))
    : fetch(new URL(name, import.meta.url), { integrity, credentials: 'omit', mode: 'cors' });
}

// A module of our origin, imported with its integrity value: `import()`
// takes no integrity, so a module `<script>` with the integrity value
// fetches, checks and runs the module first, and the import, made only once
// that script has loaded, finds it in the page's module map. Not a
// `modulepreload` link: WebKit (Safari) ignores a modulepreload's integrity
// and would run a changed file (its own web-platform-tests expect the
// failure); every engine checks a script's. The Chromium, Firefox and WebKit
// tests check that a changed file never runs and a checked one is not
// fetched twice. A browser may keep a failed module in that map for the
// page's life (the standard said so until 2024; WebKit does), so a retry
// asks for another address (`?attempt=N`; the server ignores the query).
let tesseraImportFailures = 0;
// A page that requires Trusted Types refuses a plain URL for a script's
// `src`, so where the browser has them the loader names the URL through a
// policy of its own, `tessera`, which accepts only the session module's
// glue beside this module. A page that lists its policies in a
// `trusted-types` directive must add `tessera` to require Trusted Types;
// one that lists them without it and requires none gets a plain URL.
let tesseraScriptUrls;
function tesseraScriptUrl(href) {
  if (tesseraScriptUrls === undefined) {
    tesseraScriptUrls = null;
    try {
      tesseraScriptUrls = globalThis.trustedTypes?.createPolicy('tessera', {
        createScriptURL: (url) => {
          const asked = new URL(url);
          const glue = new URL(TESSERA_SESSION_GLUE, import.meta.url);
          if (asked.origin !== glue.origin || asked.pathname !== glue.pathname) {
            throw new TypeError(`tessera: ${url} is not the widget's session module`);
          }
          return url;
        },
      }) ?? null;
    } catch {
      // The page's `trusted-types` directive does not allow `tessera`.
    }
  }
  return tesseraScriptUrls ? tesseraScriptUrls.createScriptURL(href) : href;
}

function tesseraImportPinned(name, integrity) {
  const href = new URL(name, import.meta.url);
  if (tesseraImportFailures > 0) href.searchParams.set('attempt', String(tesseraImportFailures));
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.type = 'module';
    script.crossOrigin = 'anonymous';
    script.integrity = integrity;
    try {
      script.src = tesseraScriptUrl(href.href);
    } catch (error) {
      reject(new Error(`${name} could not be loaded: ${error.message}`));
      return;
    }
    script.onload = () => {
      script.remove();
      // The URL the script was checked at: a page's default Trusted Types
      // policy may have rewritten the one given. A module that failed at
      // evaluation stays failed at its URL, so the retry moves on.
      resolve(import(script.src).catch((error) => {
        tesseraImportFailures += 1;
        throw error;
      }));
    };
    script.onerror = () => {
      script.remove();
      tesseraImportFailures += 1;
      reject(new Error(`${name} could not be loaded or failed its integrity check`));
    };
    document.head.append(script);
  });
}

// The session module, loaded once: its glue (inlined in the single-file
// variant, imported pinned otherwise) and its wasm, fetched side by side.
// The glue's exports are the operations; its initializer is the module's
// default export, or the inlined binding itself.
// A failed load is retried on the next request rather than remembered.
let tesseraSessionReady;
function tesseraSessionLoad() {
  tesseraSessionReady ??= Promise.all([
    TESSERA_INLINE_SESSION_WASM
      ? tesseraSessionModule
      : tesseraImportPinned(TESSERA_SESSION_GLUE, TESSERA_SESSION_GLUE_INTEGRITY),
    tesseraWasmSource(TESSERA_INLINE_SESSION_WASM, TESSERA_SESSION_WASM, TESSERA_SESSION_WASM_INTEGRITY),
  ]).then(([glue, wasm]) => (glue.default ?? glue)({ module_or_path: wasm }).then(() => glue))
    .catch((error) => {
      tesseraSessionReady = undefined;
      throw error;
    });
  return tesseraSessionReady;
}

// Called by the first module (its `session_module`) with an operation
// (`completeSignIn` or `refreshSession`) and a JSON request; the answer is
// JSON too. A load that fails is tried once more, at another address: the
// operation may have joined the load a returning sign-in started at once,
// and that load's failure must not be the operation's only chance.
function tesseraSession(operation, request) {
  return tesseraSessionLoad()
    .catch(() => tesseraSessionLoad())
    .then((session) => session[operation](request));
}

// A redirect sign-in returning to this page (a code, a state that is not a
// popup's, and a sign-in this tab started): the session module is fetched
// now, side by side with the first one, instead of after it.
try {
  const query = new URLSearchParams(location.search);
  const started = Object.keys(sessionStorage).some((key) => key.startsWith('tessera.pending.'));
  if (started && query.has('code') && !(query.get('state') || 'popup.').startsWith('popup.')) {
    tesseraSessionLoad().catch(() => {});
  }
} catch {
  // Storage blocked: the module is fetched when the code is exchanged.
}

// Builds the server's first view (`/t/{tenant}/start/...`, data of the form
// [tag, {attribute: value}, child...]) with createElement and textContent:
// nothing is parsed as markup, so a tenant's texts stay text, and pages that
// enforce Trusted Types accept it.
function tesseraBuild(node) {
  if (typeof node === 'string') return document.createTextNode(node);
  const [tag, attributes, ...children] = node;
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children.map(tesseraBuild));
  return element;
}

// Whether this page view starts signed out, as far as the loader can tell
// without the wasm: not a sign-in returning (a code or an error with a
// state), no session the tab remembers, no session a removed element of this
// page parked in the wasm (which is then loaded). Otherwise the first view
// waits for the wasm, which knows.
function tesseraStartsSignedOut(tenant) {
  if (tesseraLoaded) return false;
  try {
    const query = new URLSearchParams(location.search);
    if (query.has('state') && (query.has('code') || query.has('error'))) return false;
    return sessionStorage.getItem(`tessera.session.${tenant}`) === null;
  } catch {
    return true;
  }
}

// Links a tenant's fonts.css from the page's <head>, once per address;
// settles when it has loaded or failed.
const tesseraFontSheets = new Map();
function tesseraLinkFonts(href) {
  if (!tesseraFontSheets.has(href)) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    link.crossOrigin = 'anonymous';
    tesseraFontSheets.set(href, new Promise((settled) => { link.onload = link.onerror = settled; }));
    document.head.append(link);
  }
  return tesseraFontSheets.get(href);
}

// How long the first view waits for a tenant's own font before it shows in
// the fallback stack (then swaps, as `font-display: swap` says).
const TESSERA_FONT_WAIT_MS = 1000;

// How long the wasm waits, at most, for a press on the first view to end
// before it takes the view over (a release it never sees, say outside the
// window, delays it no longer than this).
const TESSERA_PRESS_WAIT_MS = 3000;
// How long, after a press on the first view is released, the wasm waits for
// the click that release makes (a touch tap's may come a little later).
const TESSERA_CLICK_WAIT_MS = 500;

class TesseraLogin extends HTMLElement {
  // Added to the page (again, in a single-page app): the shadow root is
  // filled afresh, and the widget picks up a session this page still holds.
  connectedCallback() {
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    shadow.replaceChildren();
    const server = (this.getAttribute('server') || new URL('.', import.meta.url).origin).replace(/\/+$/, '');
    const tenant = this.getAttribute('tenant') || '';
    const sheets = [`${server}/t/${encodeURIComponent(tenant)}/theme.css`];
    if (TESSERA_INLINE_CSS) {
      // A constructed stylesheet: no <style> element, so no 'unsafe-inline'.
      tesseraInlineSheet ??= new CSSStyleSheet();
      tesseraInlineSheet.replaceSync(TESSERA_INLINE_CSS);
      shadow.adoptedStyleSheets = [tesseraInlineSheet];
    } else {
      sheets.unshift(new URL(TESSERA_CSS, import.meta.url).href);
    }
    // The first view waits for the stylesheets (loaded or failed), so that
    // it is never shown unstyled and then moved by them.
    const styled = Promise.all(sheets.map((href) => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = href;
      shadow.append(link);
      return new Promise((settled) => { link.onload = link.onerror = settled; });
    }));
    const container = document.createElement('div');
    container.setAttribute('part', 'container');
    shadow.append(container);
    const options = { tenant };
    if (this.getAttribute('mode') === 'popup') options.mode = 'popup';
    // The builder's previews show a state without asking the IdP.
    const preview = this.getAttribute('preview');
    if (preview) options.preview = preview;
    // One request brings the tenant's texts, its configuration and the
    // signed-out view the server rendered from both. The locale asked for is
    // the element's `locale` attribute, else the browser's preferences (its
    // Accept-Language); the server negotiates against the tenant's list.
    // Without a `locale`, the address is the one the snippet preloads.
    const base = `${server}/t/${encodeURIComponent(tenant)}`;
    const locale = this.getAttribute('locale');
    // XMLHttpRequest rather than fetch(): both take the snippet's preload
    // (the same anonymous CORS request), but fetch's response stream and
    // json() settle a few tasks later, often after the next frame has begun
    // (first paint 8 ms sooner on loopback, medians of 40 alternating cold
    // loads of the two; see the README).
    const started = new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open('GET', `${base}/start/${locale ? encodeURIComponent(locale) : 'auto'}.json`);
      request.onload = () => {
        try {
          const ok = request.status >= 200 && request.status < 300;
          resolve(ok ? { document: JSON.parse(request.responseText) } : { failed: new Response(null, { status: request.status }) });
        } catch (error) {
          reject(error);
        }
      };
      request.onerror = () => reject(new TypeError('the start document could not be fetched'));
      request.send();
    });
    // The widget reads texts and configuration as responses, and explains a
    // failed one itself.
    const part = (name) => started.then(({ document, failed }) => (document
      ? new Response(JSON.stringify(document[name]), { headers: { 'content-type': 'application/json' } })
      : failed.clone()));
    const texts = part('texts');
    const config = part('config');
    texts.catch(() => {});
    config.catch(() => {});
    // The first view goes in as soon as it arrives, unless this page view
    // may not start signed out; the wasm is fetched after that first paint
    // (or at once when there is no first view), and takes the view over.
    // A click meanwhile is kept, shown busy, and given to the wasm's view.
    const firstView = !preview || preview === 'signed-out';
    let early;
    let signingIn;
    const keepClick = (event) => {
      const button = event.target instanceof Element && event.target.closest('button');
      if (!button || early !== undefined) return;
      early = [...container.querySelectorAll('button')].indexOf(button);
      button.setAttribute('aria-busy', 'true');
      if (button.getAttribute('part') === 'button sign-in') button.textContent = signingIn;
    };
    // What this connection listens for ends with it: an element removed and
    // added again starts afresh.
    this.tesseraConnection?.abort();
    const connection = new AbortController();
    this.tesseraConnection = connection;
    const { signal } = connection;
    const load = () => tesseraLoad()
      .then(() => mount(this, container, options, texts, config, settled))
      .catch((error) => {
        container.textContent = 'Sign-in is unavailable right now.';
        this.dispatchEvent(new CustomEvent('tessera:error', {
          bubbles: true, composed: true,
          detail: { code: 'load_failed', message: String(error && error.message || error) },
        }));
      });
    // The wasm replaces the first view's elements with its own, so it waits
    // for a press in progress on the first view to end: a button pressed on
    // one view and released on the other would be clicked on neither. A
    // press is the main pointer button or the space bar held down; after
    // its release the wasm waits for the release's click (a touch tap's
    // comes in a later task), or TESSERA_CLICK_WAIT_MS without one, and
    // takes over a task after that click, once it has reached `keepClick`.
    let press = 'none';
    let pressEnded;
    let pressTimer;
    const endPressIn = (ms) => {
      clearTimeout(pressTimer);
      pressTimer = setTimeout(() => {
        press = 'none';
        pressEnded?.();
      }, ms);
    };
    const pressed = () => {
      press = 'down';
      clearTimeout(pressTimer);
    };
    const released = () => { if (press === 'down') { press = 'released'; endPressIn(TESSERA_CLICK_WAIT_MS); } };
    const listening = { capture: true, signal };
    container.addEventListener('pointerdown', (event) => { if (event.button === 0) pressed(); }, { signal });
    container.addEventListener('keydown', (event) => { if (event.key === ' ') pressed(); }, { signal });
    window.addEventListener('pointerup', released, listening);
    window.addEventListener('keyup', (event) => { if (event.key === ' ') released(); }, listening);
    window.addEventListener('click', () => { if (press === 'released') endPressIn(0); }, listening);
    // No click follows a cancelled press, nor one the window lost focus in
    // (an element's blur is seen here too: skipped).
    const cancelled = () => { if (press !== 'none') endPressIn(0); };
    window.addEventListener('pointercancel', cancelled, listening);
    window.addEventListener('blur', (event) => { if (event.target === window) cancelled(); }, listening);
    // Keyboard focus on a first-view button stays on that button in the
    // wasm's view (which has the same buttons in the same order).
    let focused = -1;
    const settled = () => new Promise((resolve) => {
      let done = false;
      const settle = () => {
        if (done) return;
        done = true;
        pressEnded = undefined;
        focused = [...container.querySelectorAll('button')].indexOf(shadow.activeElement);
        resolve();
      };
      // A removed element holds nothing up: its view is parked at once.
      if (press === 'none' || signal.aborted) return settle();
      pressEnded = settle;
      signal.addEventListener('abort', settle);
      setTimeout(settle, TESSERA_PRESS_WAIT_MS);
    });
    this.addEventListener('tessera:ready', () => {
      container.removeEventListener('click', keepClick);
      const buttons = container.querySelectorAll('button');
      if (focused >= 0 && !shadow.activeElement) buttons[focused]?.focus();
      if (early !== undefined) buttons[early]?.click();
      early = undefined;
    }, { once: true, signal });
    // A theme with its own font: its @font-face rules go in the page's
    // document, since a shadow root's stylesheets cannot declare fonts. The
    // first view waits (at most TESSERA_FONT_WAIT_MS) for the faces its
    // text and heading use, so that it is drawn in the tenant's font
    // rather than redrawn in it.
    const fonts = started
      .then(({ document: start }) => {
        if (start?.config?.fonts !== true) return undefined;
        const loaded = tesseraLinkFonts(`${base}/fonts.css`);
        const family = start.config.font_family;
        if (typeof family !== 'string') return loaded;
        return loaded.then(() => Promise.all(['400', '700'].map((weight) => document.fonts.load(`${weight} 1em "${family}"`))));
      })
      .catch(() => {});
    const fontsOrLater = Promise.race([fonts, new Promise((later) => { setTimeout(later, TESSERA_FONT_WAIT_MS); })]);
    // A page view that may not start signed out fetches the wasm at once,
    // waiting neither for the start document nor for the stylesheets.
    if (!firstView || !tesseraStartsSignedOut(tenant)) {
      load();
      return;
    }
    Promise.all([started, styled, fontsOrLater])
      .then(([{ document }]) => {
        if (!document || signal.aborted || container.hasChildNodes()) return false;
        signingIn = document.texts.messages['signing-in'] ?? 'signing-in';
        container.append(tesseraBuild(document.view));
        container.addEventListener('click', keepClick, { signal });
        return true;
      })
      .catch(() => false)
      .then((shown) => {
        if (!shown) return load();
        // After the frame that paints the first view; a hidden tab paints
        // no frames, so a timer stands in.
        let loading = false;
        const once = () => { if (!loading) { loading = true; load(); } };
        requestAnimationFrame(() => setTimeout(once, 0));
        setTimeout(once, 250);
      });
  }

  // Removed from the page: the widget stops its timers and listeners, and
  // its session attaches to no request until an element of its tenant is
  // added again.
  disconnectedCallback() {
    this.tesseraConnection?.abort();
    tesseraReady?.then(() => unmount(this)).catch(() => {});
  }
}

if (!customElements.get('tessera-login')) customElements.define('tessera-login', TesseraLogin);

// window.Tessera.fetch: fetch with the signed-in passport's bearer token,
// attached only for this page's origin or origins the tenant allowlists.
if (!window.Tessera) {
  Object.defineProperty(window, 'Tessera', {
    value: Object.freeze({
      async fetch(input, init = {}) {
        await tesseraLoad();
        const url = input instanceof Request ? input.url : String(input);
        const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
        const token = bearerFor(url);
        if (token) headers.set('authorization', `Bearer ${token}`);
        const response = await fetch(input, { ...init, headers });
        if (!token || response.status !== 401) return response;
        // The API no longer accepts this passport: the widget renews it with
        // its refresh token and the request is sent once more (unless its
        // body was a Request's, which cannot be sent twice); without a
        // refresh token the widget signs out and tells the customer.
        const renewed = await renewRejected(token);
        if (!renewed || input instanceof Request) return response;
        headers.set('authorization', `Bearer ${renewed}`);
        const retried = await fetch(input, { ...init, headers });
        if (retried.status === 401) endRejected(renewed);
        return retried;
      },
    }),
  });
}
