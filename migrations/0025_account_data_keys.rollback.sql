DROP TABLE event_rewrites;
DROP TABLE account_data_keys;
