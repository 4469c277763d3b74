"""Processor notifications translated into commands at the edge: one module per provider
event family (Stripe refunds, Stripe disputes, Braintree). The HTTP routes in
`adapters/http/routers/webhooks.py` verify signatures and dispatch here."""
