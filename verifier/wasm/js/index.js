// @tessera/verifier: strict JWT/JWKS verification for browsers, Node 20+ and
// Worker-style runtimes. The rules run in WebAssembly (the same Rust code as
// the native verifier); signatures are checked by the runtime's WebCrypto.
import initWasm, { WasmVerifier } from './tessera_verifier.js';

let ready;

function load(source) {
  if (!ready) {
    ready = (async () => {
      if (source !== undefined) {
        return initWasm({ module_or_path: source });
      }
      const url = new URL('./tessera_verifier_bg.wasm', import.meta.url);
      if (url.protocol === 'file:') {
        // Node cannot fetch file: URLs; read the bytes instead.
        const { readFile } = await import('node:fs/promises');
        return initWasm({ module_or_path: await readFile(url) });
      }
      return initWasm({ module_or_path: url });
    })();
  }
  return ready;
}

/**
 * Loads the WebAssembly module. Optional: createVerifier calls it. Runtimes
 * that import .wasm files as modules (Cloudflare Workers) pass the module.
 */
export async function init(source) {
  await load(source);
}

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

/** Verifies tokens for one issuer and audience. Build with createVerifier. */
export class Verifier {
  #inner;

  constructor(inner) {
    this.#inner = inner;
  }

  /** Resolves to { header, claims } or rejects with a VerifyError. */
  async verify(token) {
    let json;
    try {
      json = await this.#inner.verify(String(token));
    } catch (error) {
      rethrow(error);
    }
    return JSON.parse(json);
  }

  /** Fetches the remote key set now. */
  async refresh() {
    try {
      await this.#inner.refresh();
    } catch (error) {
      rethrow(error);
    }
  }

  /** The cached remote key set as a snapshot object, or undefined. */
  snapshot() {
    const text = this.#inner.snapshot();
    return text === undefined ? undefined : JSON.parse(text);
  }
}

/** Creates a verifier. See index.d.ts for the options. */
export async function createVerifier(options) {
  await load();
  const settings = { ...options };
  if (typeof settings.jwks === 'string') settings.jwks = JSON.parse(settings.jwks);
  let inner;
  try {
    inner = new WasmVerifier(JSON.stringify(settings));
  } catch (error) {
    rethrow(error);
  }
  return new Verifier(inner);
}
