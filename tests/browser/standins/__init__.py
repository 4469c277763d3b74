"""Local stand-ins for the payment page's third-party scripts (Stripe.js, Braintree's client,
Turnstile's api.js), served by `tests/browser/pay.py::StandIns`. Each implements only what
the page calls, against the local services (localstripe, the local Braintree gateway, the
local siteverify); docs/payments.md says what they do not cover."""
