DROP TABLE accounts;
DROP TABLE projection_positions;
DROP TABLE projection_streams;
DROP TABLE relay_positions;
