DROP TABLE account_health;
