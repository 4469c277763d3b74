DROP TABLE test_clock_accounts;
DROP TABLE test_clocks;
