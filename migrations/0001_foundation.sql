-- Tenants, their API keys, their integration settings and their companies.
-- Written in the SQL that SQLite and PostgreSQL share: TEXT ids (UUIDs), BIGINT epoch
-- milliseconds for instants, INTEGER 0/1 for flags. Never edit an applied migration: add one.

CREATE TABLE admin_credential (
    id          TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

CREATE TABLE integration_settings (
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    integration_key       TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    client_secret_sealed  TEXT NOT NULL,
    client_secret_hint    TEXT NOT NULL,
    enabled               INTEGER NOT NULL DEFAULT 0,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, integration_key)
);

CREATE TABLE companies (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    tags         TEXT NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    last_sync    BIGINT
);
CREATE INDEX companies_by_tenant ON companies (tenant_id, created_at, id);
