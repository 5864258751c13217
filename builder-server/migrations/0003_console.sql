-- The console's sign-in. A login link (`tessera admin login-link`) is a
-- one-time secret kept as its SHA-256 and deleted when used or expired. A
-- console session is kept as the SHA-256 of its cookie, with the CSRF
-- token its forms carry, who signed in, their role, and the two times its
-- timeouts are measured from.
CREATE TABLE console_links (
    token_hash BLOB PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE console_sessions (
    id_hash BLOB PRIMARY KEY NOT NULL,
    csrf TEXT NOT NULL,
    subject TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT;
