/** Options of createVerifier. Issuer and audience are required unless the
 * dangerously* opt-outs are set. */
export interface VerifierOptions {
  /** Accepted `iss` value(s). */
  issuer?: string | string[];
  /** Accepted `aud` value(s); the token's `aud` may be a string or an array. */
  audience?: string | string[];
  dangerouslyAcceptAnyIssuer?: boolean;
  dangerouslyAcceptAnyAudience?: boolean;
  /** Algorithm allowlist (default: RS256/384/512, PS256/384/512, ES256, ES384, EdDSA). */
  algorithms?: string[];
  /** Seconds of clock skew tolerated on exp, nbf and iat (default 0). */
  clockTolerance?: number;
  /** Reject tokens issued (iat) longer ago than this many seconds. */
  maxTokenAge?: number;
  /** Required header typ, e.g. "at+jwt" ("application/" is ignored). */
  typ?: string;
  /** Required `sub`. */
  subject?: string;
  /** Claims that must be present. */
  requiredClaims?: string[];
  /** Reject tokens carrying personal data (email, name, phone_number...). */
  rejectPii?: boolean;
  /** Largest token accepted in bytes (default 16384). */
  maxTokenBytes?: number;
  /** Keep up to this many verified tokens in an LRU cache (off by default).
   * A hit re-checks the time rules and that the key set was not replaced;
   * cached passports are frozen and shared between hits. */
  cacheSize?: number;
  /** Signature engine: "auto" (default) uses node:crypto synchronously in
   * Node, Deno and Bun (except ECDSA in Deno, where WebCrypto is faster)
   * and for RS, ES and EdDSA in Cloudflare Workers whose
   * `process.getBuiltinModule` offers it, and WebCrypto elsewhere
   * (browsers, Web and Service Workers, Vercel's edge runtime, PS in
   * Cloudflare Workers); "webcrypto" forces WebCrypto. */
  engine?: 'auto' | 'webcrypto';
  /** Fixed Unix time in seconds, for tests. */
  now?: number;
  /** A JWKS document or a key set snapshot (object or JSON text; text is
   * read strictly, refusing repeated members, which an object has already
   * lost to JSON.parse). With `remote` and no `remote.jwksUri`, a
   * snapshot's `jwks_uri` is where keys are fetched from next, checked like
   * any key location when the verifier is created. */
  jwks?: object | string;
  /** Fetch keys with the runtime's fetch: from remote.jwksUri, or by OpenID
   * discovery from the (single) issuer. */
  remote?: {
    jwksUri?: string;
    /** Default 5000. */
    timeoutMs?: number;
    /** Minimum seconds between fetch attempts (default 30): for an unknown
     * kid, while the set is stale, and after a failed fetch (verifications
     * then fail at once with that failure). Also the least freshness a set
     * gets, whatever Cache-Control says (no-cache, max-age=0). */
    cooldownSeconds?: number;
    /** Freshness when the response has no Cache-Control max-age (default 600). */
    defaultMaxAgeSeconds?: number;
    /** How long a stale key set is used while the issuer is down (default
     * 86400). While stale, verifications use it at once and one fetch per
     * cooldown refreshes it in the background. */
    staleIfErrorSeconds?: number;
    /** Allow plain http to hosts other than loopback (localhost,
     * 127.0.0.0/8, [::1], parsed as URLs, never by prefix). */
    dangerouslyAllowHttp?: boolean;
  };
}

/** A verified token: its protected header and claims, read from the JSON
 * the issuer signed (its member order, no member added or dropped). */
export interface VerifiedPassport {
  header: Record<string, unknown>;
  claims: Record<string, unknown> & { sub?: string; exp: number };
}

/** Stable error codes, the same as in Rust and the tessera-verify CLI. */
export type VerifyErrorCode =
  | 'ERR_JWT_TOO_LARGE'
  | 'ERR_JWS_INVALID'
  | 'ERR_JWT_INVALID'
  | 'ERR_JOSE_NOT_SUPPORTED'
  | 'ERR_JOSE_ALG_NOT_ALLOWED'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_CLAIM_VALIDATION_FAILED'
  | 'ERR_JWT_PERSONAL_DATA'
  | 'ERR_JWKS_INVALID'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_JWKS_TIMEOUT'
  | 'ERR_CONFIGURATION_INVALID';

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  /** The claim the error is about, when it is about one. */
  readonly claim?: string;
}

export class Verifier {
  private constructor();
  verify(token: string): Promise<VerifiedPassport>;
  refresh(): Promise<void>;
  snapshot(): object | undefined;
}

export function createVerifier(options: VerifierOptions): Promise<Verifier>;

/** Loads the WebAssembly module ahead of time, or from a given module,
 * bytes, URL or response (createVerifier loads it when init was not called). */
export function init(source?: WebAssembly.Module | BufferSource | URL | Response): Promise<void>;

/** What authenticate() answers: the passport, or the response to send. */
export type Authentication =
  | { ok: true; passport: VerifiedPassport }
  | {
      ok: false;
      /** 401 (no token, or a token that did not verify) or 503 (the keys
       * cannot be had: the client should keep its session and retry). */
      status: 401 | 503;
      /** `www-authenticate` (401) or `retry-after` (503), and
       * `cache-control: no-store`. */
      headers: Record<string, string>;
      /** Why, for the server's own logs; never send it. Absent when no
       * token was sent. */
      error?: VerifyError;
    };

/** Checks an Authorization header value the way the native axum layer does
 * (RFC 6750 section 3.1). Rejects only for errors that are not VerifyErrors. */
export function authenticate(
  verifier: Verifier,
  authorization: string | string[] | null | undefined,
  options?: { retryAfterSeconds?: number },
): Promise<Authentication>;
