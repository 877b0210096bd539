-- Upstream calls per (app, division) per clock minute, for the portal's pictures of Exact's
-- limits (calls a minute over the last hour, a day over 30 days). Written beside each counted
-- call; rows older than 31 days are deleted as new ones are written.
CREATE TABLE upstream_call_minutes (
    app TEXT NOT NULL,
    division TEXT NOT NULL,
    minute_start BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    PRIMARY KEY (app, division, minute_start)
);
