DROP TABLE ledger_snapshots;
DROP TABLE ledger_events;
DROP TYPE stored_event_uuid;
