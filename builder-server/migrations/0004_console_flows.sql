-- Console sign-ins at the admins' IdP in flight: the `state` sent to the
-- IdP (as its SHA-256) names the PKCE verifier and nonce kept here, and the
-- browser that started it (the SHA-256 of a cookie only that browser
-- holds). A flow is spent by its callback and lives ten minutes at most.
CREATE TABLE console_flows (
    state_hash BLOB PRIMARY KEY NOT NULL,
    browser_hash BLOB NOT NULL,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
