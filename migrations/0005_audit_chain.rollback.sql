DROP TRIGGER ledger_events_chain ON ledger_events;
DROP FUNCTION ledger_events_chain();
DROP FUNCTION ledger_event_hash(bytea, uuid, bigint, text, bytea);
DROP TABLE event_hashes;
