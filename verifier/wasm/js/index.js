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

const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

// A synchronous signature engine on node:crypto: in Node every WebCrypto call
// is a round trip through the thread pool that costs several times the
// signature check itself.
function nodeEngine(nodeCrypto) {
  const { constants } = nodeCrypto;
  return {
    importKey(jwk) {
      return nodeCrypto.createPublicKey({ key: jwk, format: 'jwk' });
    },
    verify(alg, key, data, signature) {
      const bits = alg.slice(2);
      switch (alg.slice(0, 2)) {
        case 'RS':
          return nodeCrypto.verify(HASHES[bits], data, key, signature);
        case 'PS':
          return nodeCrypto.verify(HASHES[bits], data,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }, signature);
        case 'ES':
          return nodeCrypto.verify(HASHES[bits], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
        default:
          return nodeCrypto.verify(null, data, key, signature);
      }
    },
  };
}

async function hostEngine(choice) {
  const versions = globalThis.process?.versions;
  if (choice === 'webcrypto' || !(versions?.node || versions?.bun)) return undefined;
  return nodeEngine(await import('node:crypto'));
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
    const text = String(token);
    let json;
    try {
      json = this.#inner.verifySync(text) ?? (await this.#inner.verify(text));
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
  const { engine, ...settings } = options;
  if (engine !== undefined && engine !== 'auto' && engine !== 'webcrypto') {
    throw new VerifyError(`engine must be "auto" or "webcrypto", not ${engine}`, 'ERR_CONFIGURATION_INVALID');
  }
  const host = await hostEngine(engine);
  let inner;
  try {
    inner = new WasmVerifier(JSON.stringify(settings), host);
  } catch (error) {
    rethrow(error);
  }
  return new Verifier(inner);
}
