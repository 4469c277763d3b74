-- transactional: false
DROP INDEX CONCURRENTLY IF EXISTS ledger_events_method_added_idx;
