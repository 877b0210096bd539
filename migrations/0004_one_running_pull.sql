-- At most one queued or running pull per company and data type, across every server instance
-- sharing the database: the database refuses the second, so two instances can never pull the
-- same company's data at once.

-- Older duplicates (from before this rule) end as abandoned, so the index can be built.
UPDATE pull_operations
SET status = 'InternalError',
    error_message = 'abandoned: a newer pull of the same data was queued'
WHERE status IN ('Queued', 'Fetching', 'Mapping')
  AND EXISTS (
    SELECT 1 FROM pull_operations newer
    WHERE newer.company_id = pull_operations.company_id
      AND newer.data_type = pull_operations.data_type
      AND newer.status IN ('Queued', 'Fetching', 'Mapping')
      AND (newer.requested_at > pull_operations.requested_at
           OR (newer.requested_at = pull_operations.requested_at AND newer.id > pull_operations.id))
  );

CREATE UNIQUE INDEX pull_operations_one_running
    ON pull_operations (company_id, data_type)
    WHERE status IN ('Queued', 'Fetching', 'Mapping');

-- The server running a pull says so every few seconds; a pull whose heartbeat stopped was
-- abandoned, and any instance may give it up.
ALTER TABLE pull_operations ADD COLUMN heartbeat_at BIGINT;
