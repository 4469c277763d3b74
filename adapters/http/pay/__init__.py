"""The one payment page: a customer adds a card or a PayPal account for one payment
session, in the browser, without an API key (adapters/http/pay/page.py)."""
