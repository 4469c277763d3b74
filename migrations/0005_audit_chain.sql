-- depends: 0003_accounts_tax_id
-- A tamper-evident audit chain: every stored event gets a SHA-256 hash that covers the
-- hash of the previous version of its stream, written by a trigger in the same
-- transaction as the event (so the chain is atomic with the write). Recompute with
-- `ledger audit verify`. sha256() is built into PostgreSQL 11+ (no pgcrypto).
--
-- hash(v) = sha256(hash(v-1) || uuid bytes || v as decimal text || topic (UTF-8) || state)
-- with hash(0) = 32 zero bytes.

CREATE TABLE event_hashes (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    notification_id bigint,
    hash bytea NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);

CREATE FUNCTION ledger_event_hash(prev bytea, id uuid, version bigint, topic text, state bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(
        prev || uuid_send(id) || convert_to(version::text, 'UTF8')
        || convert_to(coalesce(topic, ''), 'UTF8') || coalesce(state, ''::bytea)
    )
$$;

-- A missing predecessor (only possible if event_hashes was tampered with) does not block
-- the write: the zero hash is used, and `verify` reports the missing row.
CREATE FUNCTION ledger_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev bytea;
BEGIN
    IF NEW.originator_version > 1 THEN
        SELECT h.hash INTO prev FROM event_hashes h
        WHERE h.originator_id = NEW.originator_id
          AND h.originator_version = NEW.originator_version - 1;
    END IF;
    INSERT INTO event_hashes (originator_id, originator_version, notification_id, hash)
    VALUES (
        NEW.originator_id, NEW.originator_version, NEW.notification_id,
        ledger_event_hash(
            coalesce(prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
            NEW.originator_id, NEW.originator_version, NEW.topic, NEW.state
        )
    );
    RETURN NULL;
END
$$;

-- Backfill the events already stored, stream by stream in version order, before the
-- trigger exists (the table lock keeps writers out until this migration commits).
LOCK TABLE ledger_events IN EXCLUSIVE MODE;

WITH RECURSIVE chain AS (
    SELECT e.originator_id, e.originator_version, e.notification_id,
           ledger_event_hash(
               '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
               e.originator_id, e.originator_version, e.topic, e.state) AS hash
    FROM ledger_events e WHERE e.originator_version = 1
    UNION ALL
    SELECT e.originator_id, e.originator_version, e.notification_id,
           ledger_event_hash(c.hash, e.originator_id, e.originator_version, e.topic, e.state)
    FROM chain c
    JOIN ledger_events e ON e.originator_id = c.originator_id
                        AND e.originator_version = c.originator_version + 1
)
INSERT INTO event_hashes (originator_id, originator_version, notification_id, hash)
SELECT originator_id, originator_version, notification_id, hash FROM chain
ORDER BY originator_id, originator_version;

CREATE TRIGGER ledger_events_chain AFTER INSERT ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_events_chain();
