-- What each recompute of an account's read models came to (billing_recompute_outcomes_total),
-- by outcome: completed (refolded), refused (another recompute of the account was running)
-- or failed (an error after it was claimed). Not an event: a refused recompute records
-- nothing, and a failed refold is not the account's history (adapters/recompute.py).
CREATE TABLE recompute_outcome_totals (
    outcome text PRIMARY KEY,
    count bigint NOT NULL
);
