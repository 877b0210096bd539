-- On-demand work goes before scheduled work within a clock minute, across instances: an
-- on-demand call that has to wait for a division's next minute marks the budget row until
-- shortly after that minute opens (and each on-demand call made while the mark stands extends
-- it); scheduled calls of the division wait while it stands. Epoch ms; 0 = no mark.
ALTER TABLE upstream_call_budgets ADD COLUMN on_demand_waiting_until BIGINT NOT NULL DEFAULT 0;
