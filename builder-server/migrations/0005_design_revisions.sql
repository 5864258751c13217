-- Every save of a tenant's design (its theme and its text overrides) is an
-- immutable revision, numbered per tenant. The tenant's `theme` column and
-- its `texts` rows hold the published revision, which is all the public
-- endpoints read; publishing (or rolling back) copies a revision there in
-- one transaction. Each existing tenant's design becomes its revision 1.
CREATE TABLE design_revisions (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    theme TEXT NOT NULL,
    texts TEXT NOT NULL,
    author TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, number)
) STRICT;

INSERT INTO design_revisions (tenant_id, number, theme, texts, author, note, created_at)
SELECT tenants.id, 1, tenants.theme,
       (SELECT json_group_object(texts.locale, json(texts.messages)) FROM texts
        WHERE texts.tenant_id = tenants.id),
       'migration', 'the design before revisions', tenants.updated_at
FROM tenants;

ALTER TABLE tenants ADD COLUMN published_revision INTEGER NOT NULL DEFAULT 1;
