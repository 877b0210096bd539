-- Where the end customer is sent back after the link flow (a Ledgerline extension: Codat's
-- company `redirect` is the Link URL itself). A tenant-wide template, overridable per company;
-- NULL means "no return URL: show Ledgerline's result page and stop there".
ALTER TABLE tenants ADD COLUMN link_return_url TEXT;
ALTER TABLE companies ADD COLUMN link_return_url TEXT;
-- The outcome of the callback that used a state (JSON), so that a reload or the back button
-- shows the same result page instead of a replay error.
ALTER TABLE link_states ADD COLUMN result TEXT;
