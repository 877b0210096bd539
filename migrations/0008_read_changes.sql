-- What every server instance keeps in memory for reads (API keys, companies, datasets' versions
-- and freshness) is told of changes made by any instance through this log, polled about once
-- a second.
--
-- Every change raises the one `read_generation` row in the transaction that makes it and logs
-- what changed under the new number. The row's lock makes the numbers commit in order, so a
-- reader that sees generation G knows every change up to G is committed and in the log.
CREATE TABLE read_generation (
    id          INTEGER PRIMARY KEY,
    generation  BIGINT NOT NULL
);
INSERT INTO read_generation (id, generation) VALUES (1, 0);

-- `kind` is what changed (`api_keys`, `company`, `datasets`); `subject` which one (a company
-- id, or `*` for all).
CREATE TABLE read_changes (
    generation  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX read_changes_by_generation ON read_changes (generation);
