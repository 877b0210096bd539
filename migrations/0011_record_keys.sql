-- Upstream keys of stored records: a key the upstream names a record's part by (Exact: a
-- transaction line of a journal entry or bill, a contact person of a customer or supplier),
-- mapped to the record it belongs to. The upstream's deleted log names such parts only, so an
-- incremental pull looks their record up here instead of reading everything again.
CREATE TABLE record_keys (
    company_id     TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    data_type      TEXT NOT NULL,
    upstream_key   TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    PRIMARY KEY (company_id, data_type, upstream_key)
);

-- A full pull of the data type began and has not completed: its pages may have stored a new
-- cursor, but only its end flags what it never saw as deleted, so the next pull is full again.
ALTER TABLE datasets ADD COLUMN full_pull_pending INTEGER NOT NULL DEFAULT 0;
