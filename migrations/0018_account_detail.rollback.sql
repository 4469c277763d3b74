DROP TABLE account_detail;
