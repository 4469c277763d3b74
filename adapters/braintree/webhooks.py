"""Braintree's webhook notifications through the official SDK: the signature check and the
parsing (`webhook_notification.parse`: an HMAC-SHA1 of the base64 payload with the private
key, matched by public key), and the one read a dispute needs: the disputed sale, whose
order id is the ledger's attempt id and whose customer id is the ledger's account id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import ExpatError

from braintree.exceptions import InvalidSignatureError, NotFoundError

from adapters.braintree.client import BraintreeClient


class BadNotification(Exception):
    """The signature does not match the payload (or either is malformed)."""


class MalformedNotification(Exception):
    """Signed with this merchant's keys, but not a notification the SDK can read: not XML,
    no `notification` element, no subject, no timestamp or kind."""


# What the SDK raises reading a signed payload that is not a well-formed notification.
UNREADABLE = (ExpatError, KeyError, TypeError, AttributeError, ValueError, IndexError)


@dataclass(frozen=True)
class Sale:
    transaction_id: str
    order_id: str | None  # the ledger's attempt id
    customer_id: str | None  # the ledger's account id


class BraintreeWebhooks:
    def __init__(self, client: BraintreeClient) -> None:
        self._client = client

    def parse(self, signature: str, payload: str) -> Any:
        """The SDK's WebhookNotification (untyped), with a kind and a timezone-aware
        timestamp; BadNotification when it is not signed with this merchant's keys,
        MalformedNotification when it is but cannot be read."""
        try:
            notification = self._client.sdk.webhook_notification.parse(signature, payload)
        except (InvalidSignatureError, UnicodeError) as error:
            raise BadNotification(str(error)) from error
        except UNREADABLE as error:
            raise MalformedNotification(f"{type(error).__name__}: {error}") from error
        if not isinstance(getattr(notification, "timestamp", None), datetime):
            raise MalformedNotification("the notification has no timestamp")
        if not str(getattr(notification, "kind", "") or ""):
            raise MalformedNotification("the notification has no kind")
        return notification

    @staticmethod
    def sent_at(notification: Any) -> datetime:
        """When Braintree made the notification (the SDK reads its UTC stamp as naive)."""
        timestamp: datetime = notification.timestamp
        return timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)

    def sale(self, transaction_id: str) -> Sale | None:
        """None when Braintree does not know the transaction."""
        sdk = self._client.sdk
        try:
            found = self._client.guard.read(
                "transaction find", lambda: sdk.transaction.find(transaction_id)
            )
        except NotFoundError:
            return None
        customer = getattr(found, "customer_details", None)
        return Sale(
            transaction_id=str(found.id),
            order_id=found.order_id or None,
            customer_id=getattr(customer, "id", None) or None,
        )
