-- depends: 0012_api_keys
-- Each finding's repairs as data (a list of {action, processor, method_ref, method_id,
-- attempt_id, refund_id, dispute_id}, unset fields left out), beside the command line in
-- `repair`. NULL for findings stored before this migration (a re-check of the account
-- writes them again).
ALTER TABLE reconciliation_findings ADD COLUMN repairs jsonb;
