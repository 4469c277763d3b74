DROP INDEX account_health_closed;
DROP INDEX account_health_bad_debt;
