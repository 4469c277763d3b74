DROP TABLE test_clock_advances;
