"""What the ledger's browser front ends share (the support console at /console/, the
customer's billing pages at /billing/): sessions bound to a principal (and, for a customer,
to one account), each front end's cookie, the CSRF check of every form, and refusals as
pages."""
