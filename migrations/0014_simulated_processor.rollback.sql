DROP TABLE sim_disputes;
DROP TABLE sim_refunds;
DROP TABLE sim_charges;
DROP TABLE sim_setups;
DROP TABLE sim_methods;
DROP TABLE sim_customers;
