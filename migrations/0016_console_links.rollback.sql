DROP TABLE console_links;
