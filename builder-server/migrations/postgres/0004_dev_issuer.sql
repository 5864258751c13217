-- As migrations/0009_dev_issuer.sql. The development issuer's state, in the database so that every replica
-- agrees: its key and pairwise secret, codes waiting for redemption, codes
-- redeemed (a replay revokes the session issued from them), sign-in
-- sessions with their refresh token families, and per-address rate
-- limits. Codes and refresh tokens are stored as SHA-256 hashes: the
-- database holds no usable credential. Times are Unix seconds.
CREATE TABLE dev_issuer_keys (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    signing_key BYTEA NOT NULL,
    pairwise_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE dev_codes (
    code_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX dev_codes_issued ON dev_codes (issued_at);

CREATE TABLE dev_redeemed_codes (
    code_hash TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    redeemed_at BIGINT NOT NULL
);
CREATE INDEX dev_redeemed_codes_at ON dev_redeemed_codes (redeemed_at);

CREATE TABLE dev_sessions (
    sid TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    refreshed_at BIGINT NOT NULL
);
CREATE INDEX dev_sessions_refreshed ON dev_sessions (refreshed_at);

CREATE TABLE dev_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX dev_refresh_tokens_issued ON dev_refresh_tokens (issued_at);

CREATE TABLE dev_rate_limits (
    bucket TEXT NOT NULL,
    address TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (bucket, address)
);
