-- Connections of a company to an upstream, their OAuth tokens, link states and errors.

CREATE TABLE connections (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    integration_key  TEXT NOT NULL,
    -- PendingAuth, Linked, Unlinked or Deauthorized (Codat's enum).
    status           TEXT NOT NULL,
    -- The upstream company (Exact: division code) this connection is pinned to, once linked.
    upstream_company_id    TEXT,
    upstream_company_name  TEXT,
    -- Every upstream company the grant reaches, as JSON [{"id","name"}], for choosing another.
    available_companies    TEXT NOT NULL DEFAULT '[]',
    created_at       BIGINT NOT NULL,
    linked_at        BIGINT,
    last_sync        BIGINT
);
CREATE INDEX connections_by_company ON connections (company_id, created_at, id);

-- One row per linked connection. Tokens are sealed with the master key. The lease columns
-- serialise refreshes across tasks and server instances without holding a transaction open
-- over an HTTP call: whoever sets the lease refreshes, the others wait and re-read.
CREATE TABLE connection_tokens (
    connection_id          TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    access_token_sealed    TEXT NOT NULL,
    refresh_token_sealed   TEXT NOT NULL,
    -- When the current access token was issued and when it expires (epoch ms).
    issued_at              BIGINT NOT NULL,
    expires_at             BIGINT NOT NULL,
    -- Bumped on every rotation, so a writer can tell whether it saw the latest pair.
    generation             BIGINT NOT NULL,
    lease_owner            TEXT,
    lease_until            BIGINT,
    updated_at             BIGINT NOT NULL
);

-- Codat's dataConnectionErrors: what went wrong, for the developer, until resolved.
CREATE TABLE connection_errors (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    status_code     TEXT NOT NULL,
    status_text     TEXT NOT NULL,
    error_message   TEXT NOT NULL,
    errored_at      BIGINT NOT NULL,
    resolved_at     BIGINT
);
CREATE INDEX connection_errors_by_connection ON connection_errors (connection_id, errored_at);

-- OAuth `state` values handed to the upstream: single use, short-lived.
CREATE TABLE link_states (
    id             TEXT PRIMARY KEY,
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
