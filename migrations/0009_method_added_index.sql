-- depends: 0001_event_store
-- transactional: false
-- The PayPal token migration finds accounts with a legacy-vaulted PayPal method by reading
-- the PaymentMethodAdded events only (adapters/postgres/paypal_candidates.py). This partial
-- index holds just those rows, so the scan costs what there are payment methods, not the
-- whole log, and an append of any other event pays nothing for it. Built CONCURRENTLY (so
-- outside a transaction): writers are not blocked while it builds over a large store.
CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_events_method_added_idx
    ON ledger_events (notification_id)
    WHERE topic = 'ledger.events:PaymentMethodAdded';
