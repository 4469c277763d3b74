-- depends: 0002_positions_and_accounts
-- AccountOpened/AccountProfileUpdated v2 carry a tax id.
ALTER TABLE accounts ADD COLUMN tax_id text;
