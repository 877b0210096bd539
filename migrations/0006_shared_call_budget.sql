-- Exact's call budget per (app, division), shared by every server instance on this database:
-- each call is counted here by one conditional UPDATE, so instances together stay inside
-- Exact's 60 a clock minute and 5,000 a UTC day. Exact's X-RateLimit-* headers raise the
-- counts when Exact has seen more than we counted.
CREATE TABLE upstream_call_budgets (
    app                   TEXT NOT NULL,
    division              TEXT NOT NULL,
    minute_start          BIGINT NOT NULL,
    minute_used           BIGINT NOT NULL,
    minute_limit          BIGINT NOT NULL,
    day_start             BIGINT NOT NULL,
    day_used              BIGINT NOT NULL,
    day_limit             BIGINT NOT NULL,
    -- Exact said "no more until" (a 429, or remaining = 0): epoch ms.
    minute_blocked_until  BIGINT NOT NULL DEFAULT 0,
    day_blocked_until     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app, division)
);

-- One pull run per connection at a time, whichever instance runs it. A run holds the lease
-- while it works and renews it with its heartbeat; a lease past `lease_until` belongs to a
-- run that died and may be taken over.
CREATE TABLE pull_leases (
    connection_id  TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    lease_until    BIGINT NOT NULL
);
