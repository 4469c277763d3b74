"""Payment page links: `/pay/{session_id}?to=<return_url>&until=<unix time>&sig=<hmac>`.

The link is the customer's only credential for the page: its signature (HMAC-SHA256 with
`LEDGER_PAY_LINK_SECRET` over the session id, the return URL and the expiry) proves the
ledger made it for that session and that return URL; it expires with the session. Whoever
holds it can complete that one session (as with a hosted checkout page's URL), so the page
sends no referrer and is never cached.

A return URL must be allowed (adapters/http/return_urls.py: `LEDGER_RETURN_URLS` or the
ledger's own pages), when the session starts and again when the link is opened.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from adapters.http.return_urls import require_allowed, under
from adapters.settings import Settings
from ledger.errors import DomainError, ErrorKind

PAY_PREFIX = "/pay"
BILLING_PAGES = "/billing/"  # the customer's billing pages (adapters/http/portal) read `v`


class PaymentLinkInvalid(DomainError):
    """The payment page link was not made by the ledger for this session, or it expired."""

    code = "payment_link_invalid"
    kind = ErrorKind.FORBIDDEN


@dataclass(frozen=True)
class PageLink:
    session_id: str
    return_url: str
    until: int  # unix seconds
    sig: str

    def path(self) -> str:
        query = urlencode({"to": self.return_url, "until": self.until, "sig": self.sig})
        return f"{PAY_PREFIX}/{self.session_id}?{query}"


def back_to(settings: Settings, return_url: str, version: int) -> str:
    """Where the customer goes after the page saved: the return URL, which carries the
    account's version after the write (`v`) when it is one of the ledger's billing pages, so
    that page waits (bounded) for its read model to show what was just saved
    (read-your-writes). Any other return URL is left as it was made."""
    billing = settings.console_url.rstrip("/") + BILLING_PAGES
    if not under(return_url, billing):
        return return_url
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "v"] + [("v", str(version))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def make_link(settings: Settings, session_id: str, return_url: str, until: datetime) -> PageLink:
    seconds = int(until.timestamp())
    return PageLink(
        session_id, return_url, seconds, _sign(settings, session_id, return_url, seconds)
    )


def page_url(settings: Settings, link: PageLink) -> str:
    return settings.console_url.rstrip("/") + link.path()


def checked(
    settings: Settings, session_id: str, to: str, until: int, sig: str, now: datetime
) -> PageLink:
    """The link, when its signature is the ledger's, it has not expired and its return URL
    is still allowed (a setting changed since it was made is honoured)."""
    expected = _sign(settings, session_id, to, until)
    if not hmac.compare_digest(expected, sig) or until <= now.astimezone(UTC).timestamp():
        raise PaymentLinkInvalid(
            "this payment link cannot be used: it expired or was not made here"
        )
    require_allowed(settings, to)
    return PageLink(session_id, to, until, sig)


def _sign(settings: Settings, session_id: str, return_url: str, until: int) -> str:
    key = settings.pay_link_secret.get_secret_value().encode()
    message = f"{session_id}\n{return_url}\n{until}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
