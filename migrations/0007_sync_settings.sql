-- Codat's sync settings, per tenant (Codat's "client") and data type: how often a data type is
-- refreshed on schedule and whether a new link pulls it. A data type without a row has the
-- defaults (every 24 hours, fetched on first link); a tenant with rows overrides the defaults.
CREATE TABLE sync_settings (
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    data_type            TEXT NOT NULL,
    fetch_on_first_link  INTEGER NOT NULL,
    sync_schedule_hours  INTEGER NOT NULL,
    sync_order           INTEGER NOT NULL,
    sync_from_utc        BIGINT,
    sync_from_window     INTEGER,
    months_to_sync       INTEGER,
    is_locked            INTEGER NOT NULL DEFAULT 0,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, data_type)
);
