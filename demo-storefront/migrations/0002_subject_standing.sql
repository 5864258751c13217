-- What the identity provider said about a subject: `erased` (a tombstone,
-- so that a token still valid cannot bring data back) or `disabled`
-- (refused until enabled again). Only the pseudonymous `sub` is kept.
CREATE TABLE subject_standing (
    subject  TEXT    PRIMARY KEY,
    standing TEXT    NOT NULL CHECK (standing IN ('erased', 'disabled')),
    since    INTEGER NOT NULL
);

-- Sessions ended at the identity provider: every token of a session id
-- (`sid`), or every token of a subject (`sub`) issued at or before
-- `ended_at`, is refused.
CREATE TABLE ended_sessions (
    kind     TEXT    NOT NULL CHECK (kind IN ('sid', 'sub')),
    value    TEXT    NOT NULL,
    ended_at INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
);
