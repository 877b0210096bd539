-- A value sealed with the master key at first start: a server started with another key finds
-- it unreadable and refuses to start, before any secret is written with the wrong key.
CREATE TABLE master_key_check (
    id          TEXT PRIMARY KEY,
    sealed      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
