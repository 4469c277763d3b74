-- depends: 0007_projection_rebuilds
-- The earliest expiry of a payment attempt waiting for the customer to authenticate
-- (3-D Secure, `PaymentActionRequired`). Such an attempt is not "in flight since" its start
-- (the account is not stuck while the customer may still authenticate); the janitor
-- cancels and records it once this time has passed. NULL on rows written before: no attempt
-- could wait then.
ALTER TABLE account_health ADD COLUMN action_required_until timestamptz;
