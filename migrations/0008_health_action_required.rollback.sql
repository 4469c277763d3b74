ALTER TABLE account_health DROP COLUMN action_required_until;
