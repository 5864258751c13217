// The runtime-neutral part of @tessera/verifier: the promise-based API with
// typed errors around the WebAssembly verifier. Each entry point (node.js,
// browser.js, workerd.js, edge-light.js) binds it to how its runtime loads
// the wasm module and which signature engine it offers; package.json's
// `exports` conditions pick the entry. Nothing here imports a `node:` module,
// so browsers, Workers and Service Workers load it unbundled.
import initWasm, { PendingCheck, WasmVerifier } from './tessera_verifier.js';

/** A rejected token, key set or configuration. `code` is stable. */
export class VerifyError extends Error {
  constructor(message, code, claim) {
    super(message);
    this.name = 'VerifyError';
    this.code = code;
    if (claim !== undefined) this.claim = claim;
  }
}

function rethrow(error) {
  if (error && typeof error.code === 'string') {
    throw new VerifyError(error.message, error.code, error.claim);
  }
  throw error;
}

function freeze(value) {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) freeze(member);
  }
  return value;
}

const number = (value) => (typeof value === 'number' ? value : NaN);

const failureKind = (error, otherwise) =>
  error?.name === 'TimeoutError' || error?.name === 'AbortError' ? 'timeout' : otherwise;

// GETs one document of a key set fetch with the host's fetch. The wasm side
// judges the answer's status and final URL before the body is read
// (`answered`), and the body once read (`fetched`); here the body is read
// chunk by chunk and the transfer cancelled as soon as it passes the limit.
async function getDocument(inner, url) {
  const [timeout, limit] = inner.fetchLimits();
  const failed = (kind) => {
    throw inner.fetchFailed(kind);
  };
  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeout), headers: { accept: 'application/json' } });
  } catch (error) {
    failed(failureKind(error, 'unreachable'));
  }
  inner.answered(response.url ?? '', response.status);
  const cacheControl = response.headers.get('cache-control') ?? undefined;
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) failed('too-large');
  const chunks = [];
  let length = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        failed(failureKind(error, 'cut-off'));
      }
      if (chunk.done) break;
      if (!(chunk.value instanceof Uint8Array)) failed('unreadable');
      length += chunk.value.length;
      if (length > limit) {
        // Stop the transfer: nothing more is read from the issuer.
        reader.cancel().catch(() => {});
        failed('too-large');
      }
      chunks.push(chunk.value);
    }
  }
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return inner.fetched(body, cacheControl);
}

/** Verifies tokens for one issuer and audience. Build with createVerifier. */
export class Verifier {
  #inner;
  // With cacheSize: token text -> { passport, generation, exp, nbf, iat },
  // least recently used first. A hit asks the wasm side (stillValid) whether
  // the key set and the time rules still admit the passport, so the rules are
  // written once, in Rust; what this saves is the token's copy into wasm, its
  // digest, and the passport's JSON on the way back.
  #cache;
  #capacity;
  // The key set fetch under way, shared by every verification that waits.
  #fetching;

  constructor(settings, host) {
    try {
      // The wasm side has a stale key set refreshed in the background by
      // calling back; nobody waits for it, and a failure is recorded there.
      // A key set given as an object (or any value but text) goes as its
      // JSON text: the wasm side reads JSON text only, strictly, and holds
      // no JSON values.
      const { jwks } = settings;
      const sent = jwks == null || typeof jwks === 'string' ? settings : { ...settings, jwks: JSON.stringify(jwks) };
      this.#inner = new WasmVerifier(JSON.stringify(sent), host, () => {
        try {
          this.#fetch().catch(() => {});
        } catch {
          // beginFetch refused the URL and recorded why.
        }
      });
    } catch (error) {
      rethrow(error);
    }
    const capacity = settings.cacheSize;
    if (capacity > 0) {
      this.#cache = new Map();
      this.#capacity = capacity;
    }
  }

  /** Resolves to { header, claims } or rejects with a VerifyError. With
   * cacheSize, passports are frozen and shared between hits. */
  async verify(token) {
    const text = String(token);
    const cache = this.#cache;
    if (cache === undefined) {
      const answer = this.#passportText(text);
      return JSON.parse(typeof answer === 'string' ? answer : await answer);
    }
    const hit = cache.get(text);
    if (hit !== undefined) {
      cache.delete(text);
      if (this.#inner.stillValid(hit.generation, hit.exp, hit.nbf, hit.iat)) {
        cache.set(text, hit);
        return hit.passport;
      }
    }
    const generation = this.#inner.keySetGeneration();
    const answer = this.#passportText(text);
    const passport = freeze(JSON.parse(typeof answer === 'string' ? answer : await answer));
    const { exp, nbf, iat } = passport.claims;
    cache.set(text, { passport, generation, exp: number(exp), nbf: number(nbf), iat: number(iat) });
    if (cache.size > this.#capacity) cache.delete(cache.keys().next().value);
    return passport;
  }

  // The passport's JSON text, or a promise of it. verifySync answers at once
  // with a synchronous engine; with WebCrypto it starts crypto.subtle.verify
  // and hands back the check, whose promise is awaited here rather than by
  // a Rust future. It may first ask for a key import or a key set fetch.
  #passportText(text) {
    let answer;
    try {
      answer = this.#inner.verifySync(text, true);
    } catch (error) {
      return rethrow(error);
    }
    if (typeof answer === 'string') return answer;
    return answer instanceof PendingCheck ? this.#complete(answer) : this.#prepare(text, answer);
  }

  // Imports keys and fetches key sets until the token can be checked. A
  // token waits for at most two fetches (the key set, then once more for an
  // unknown `kid`, under the cooldown the wasm side keeps), as natively.
  async #prepare(text, need) {
    for (let fetches = 0, round = 0; ; round++) {
      try {
        if (need === null) {
          fetches++;
          await this.#fetch();
        } else {
          let key;
          try {
            key = await need.promise;
          } catch {
            // installKey throws why the runtime refused the key.
          }
          this.#inner.installKey(need, key);
        }
        if (round > 8) {
          throw new VerifyError('the key set kept changing while the token was verified', 'ERR_JWKS_UNAVAILABLE');
        }
        need = this.#inner.verifySync(text, fetches < 2);
      } catch (error) {
        return rethrow(error);
      }
      if (typeof need === 'string') return need;
      if (need instanceof PendingCheck) return this.#complete(need);
    }
  }

  // Joins the key set fetch under way, or starts one. Attempts begin only
  // here, so the wasm side never records an attempt nobody drives.
  #fetch() {
    if (this.#fetching === undefined) {
      const fetching = this.#fetchSteps(this.#inner.beginFetch()).finally(() => {
        if (this.#fetching === fetching) this.#fetching = undefined;
      });
      this.#fetching = fetching;
    }
    return this.#fetching;
  }

  async #fetchSteps(url) {
    try {
      while (url !== undefined) url = await getDocument(this.#inner, url);
    } catch (error) {
      // However it failed, the attempt is over; the wasm side records it
      // once (an error it threw itself is recorded already).
      const unrecorded = this.#inner.fetchFailed('unreachable');
      throw typeof error?.code === 'string' ? error : unrecorded;
    }
  }

  async #complete(check) {
    let valid = false;
    try {
      valid = (await check.promise) === true;
    } catch {
      // A signature WebCrypto refused to check has not verified.
    }
    try {
      return this.#inner.completeCheck(check, valid);
    } catch (error) {
      return rethrow(error);
    }
  }

  /** Fetches the remote key set now (or joins the fetch under way). */
  async refresh() {
    try {
      await this.#fetch();
    } catch (error) {
      rethrow(error);
    }
  }

  /** The cached remote key set as a snapshot object, or undefined. */
  snapshot() {
    return this.#inner.snapshot();
  }
}

/**
 * Binds the API to a runtime. `locate()` gives what the wasm is loaded from
 * when init() is given nothing (a URL, bytes or a WebAssembly.Module);
 * `engine(choice)` gives a synchronous signature engine for `engine: "auto"`
 * (its `webCrypto`, if any, lists algorithms it leaves to WebCrypto), or
 * undefined for WebCrypto.
 */
export function bind({ locate, engine: hostEngine }) {
  let ready;
  const load = (source) => {
    ready ??= (async () => initWasm({ module_or_path: source ?? (await locate()) }))().catch((error) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  return {
    async init(source) {
      await load(source);
    },
    async createVerifier(options) {
      await load();
      const { engine, ...settings } = options ?? {};
      if (engine !== undefined && engine !== 'auto' && engine !== 'webcrypto') {
        throw new VerifyError(`engine must be "auto" or "webcrypto", not ${engine}`, 'ERR_CONFIGURATION_INVALID');
      }
      const host = engine === 'webcrypto' ? undefined : await hostEngine();
      return new Verifier(settings, host);
    },
  };
}

// The codes that say nothing about the token, only that its keys cannot be
// had: the server answers 503 and the client keeps its session.
const KEY_SOURCE_FAILURES = new Set(['ERR_JWKS_UNAVAILABLE', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/**
 * Checks a request's Authorization header the way the native axum layer does
 * (RFC 6750): resolves to `{ ok: true, passport }`, or to `{ ok: false,
 * status, headers, error }` to send as it is: 401 with `WWW-Authenticate:
 * Bearer` when no token was sent, 401 with `Bearer error="invalid_token"`
 * when one was sent and did not verify, 503 with `Retry-After` when the keys
 * cannot be had. Why a token failed is in `error`, for the server's logs; it
 * is never put in the answer.
 */
export async function authenticate(verifier, authorization, { retryAfterSeconds = 30 } = {}) {
  const refuse = (challenge, error) => ({
    ok: false,
    status: 401,
    headers: { 'www-authenticate': challenge, 'cache-control': 'no-store' },
    error,
  });
  if (authorization === undefined || authorization === null) return refuse('Bearer');
  const value = Array.isArray(authorization) && authorization.length === 1 ? authorization[0] : authorization;
  const match = typeof value === 'string' ? /^bearer ([^ ]+)$/i.exec(value) : null;
  if (!match) return refuse('Bearer error="invalid_token"', new VerifyError('the Authorization header is not one bearer token', 'ERR_JWS_INVALID'));
  try {
    return { ok: true, passport: await verifier.verify(match[1]) };
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    if (KEY_SOURCE_FAILURES.has(error.code)) {
      return {
        ok: false,
        status: 503,
        headers: { 'retry-after': String(retryAfterSeconds), 'cache-control': 'no-store' },
        error,
      };
    }
    return refuse('Bearer error="invalid_token"', error);
  }
}
