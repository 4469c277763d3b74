"""The idempotency key of a billing-page form: made when the confirmation page is
rendered, sent back with the form, and used as the customer route's Idempotency-Key, so a
form sent twice (a double click, a reload) is done once."""

from __future__ import annotations

from uuid import UUID, uuid4

from adapters.http.browser.sessions import BrowserSession
from adapters.http.portal.pages import PortalRefused


def new_form_key() -> str:
    return str(uuid4())


def form_key(given: str, session: BrowserSession) -> str:
    """The form's key; a form without the key its page made is refused, nothing done."""
    try:
        return str(UUID(given))
    except ValueError:
        raise PortalRefused(
            400,
            "This form was not accepted",
            "It did not come from its page, so nothing was done.",
            "Go back and start again.",
            session=session,
        ) from None
