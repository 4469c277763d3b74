DROP TABLE projection_poisoned;
