-- Pulled data in the common model, per company and data type, and the pulls that filled it.

-- One row per record. `data` is the record's JSON in Codat's shape; `content_hash` tells a real
-- change (which moves `modified_at`, Codat's modifiedDate) from a pull that saw the same record.
CREATE TABLE records (
    company_id     TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    data_type      TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    data           TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    modified_at    BIGINT NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, data_type, record_id)
);

-- Per company, connection and data type: where the last pull got to. `version` rises with every
-- pull that changed records, so every server can tell whether its cached copy is current.
CREATE TABLE datasets (
    company_id                 TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    data_type                  TEXT NOT NULL,
    connection_id              TEXT NOT NULL,
    cursor                     TEXT,
    version                    BIGINT NOT NULL DEFAULT 0,
    last_successful_sync       BIGINT,
    latest_sync_id             TEXT,
    latest_successful_sync_id  TEXT,
    PRIMARY KEY (company_id, data_type, connection_id)
);

-- Codat's PullOperation: one per queued pull.
CREATE TABLE pull_operations (
    id                  TEXT PRIMARY KEY,
    company_id          TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    connection_id       TEXT NOT NULL,
    data_type           TEXT NOT NULL,
    status              TEXT NOT NULL,
    requested_at        BIGINT NOT NULL,
    completed_at        BIGINT,
    progress            INTEGER NOT NULL DEFAULT 0,
    status_description  TEXT,
    error_message       TEXT,
    records             BIGINT,
    upstream_calls      BIGINT
);
CREATE INDEX pull_operations_by_company ON pull_operations (company_id, requested_at);
