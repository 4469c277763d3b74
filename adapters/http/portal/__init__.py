"""The customer's billing pages (/billing/): a browser session bound to one account, opened
by a single-use URL the Dashboard asks for; every page and action runs the customer
surface's own handlers (`/v1` rules) for that account. docs/architecture.md, "The
customer's billing pages"."""
