-- depends: 0019_test_clock_advances
-- The console's fleet page lists the accounts in one health state in keyset pages of
-- account ids (queries/health.accounts_in_state). The state is computed at read time, so the
-- list reads the rows that may be in it; these partial indexes give the rare ones in
-- account-id order: accounts with bad debt (bad_debt and lifting), and closed accounts.
CREATE INDEX account_health_bad_debt ON account_health (account_id) WHERE uncollectible > 0;
CREATE INDEX account_health_closed ON account_health (account_id) WHERE closed;
