DROP TABLE recompute_outcome_totals;
