"""Where the ledger may send a customer's browser back to, one allow-list for the billing
pages' return (a billing portal session's `return_url`: the Dashboard) and the payment
page's: `LEDGER_RETURN_URLS`, prefixes (`scheme://host[:port][/path]`) a return URL must
start with at a path boundary (`https://shop.example/account` allows
`https://shop.example/account/done`, never `https://shop.example/accounts` nor
`https://shop.example.evil`), plus the ledger's own pages (`LEDGER_CONSOLE_URL`). Scheme and
host compare without case, the path with it. The ledger never sends a customer to a place
nobody configured (no open redirect)."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from adapters.settings import Settings
from ledger.errors import DomainError, ErrorKind


class ReturnUrlNotAllowed(DomainError):
    """The return_url does not start with an entry of LEDGER_RETURN_URLS (nor with the
    ledger's own address); nothing was started."""

    code = "return_url_not_allowed"
    kind = ErrorKind.INVALID


class _Url(NamedTuple):
    origin: str  # scheme://host[:port], lower-cased
    rest: str  # path?query#fragment, as given


def origin(url: str) -> str:
    """scheme://host[:port] of an http(s) URL, lower-cased ("" when it has none)."""
    split = _split(url)
    return split.origin if split else ""


def require_allowed(settings: Settings, url: str) -> str:
    """The URL, when it starts with an allowed prefix; else ReturnUrlNotAllowed."""
    prefixes = (*settings.return_urls, settings.console_url.rstrip("/") + "/")
    if not any(under(url, prefix) for prefix in prefixes):
        raise ReturnUrlNotAllowed(f"{url!r} is not an allowed return URL")
    return url


def return_origins(settings: Settings) -> list[str]:
    """The allowed places' origins (a page's CSP form-action must name them: a form whose
    answer redirects there is governed by it)."""
    return sorted({origin(prefix) for prefix in settings.return_urls} - {""})


def under(url: str, prefix: str) -> bool:
    """Whether `url` starts with `prefix` at a path boundary (same origin, without case)."""
    given, allowed = _split(url), _split(prefix)
    if given is None or allowed is None or given.origin != allowed.origin:
        return False
    path = allowed.rest
    if not given.rest.startswith(path):
        return False
    tail = given.rest[len(path) :]
    return path.endswith("/") or tail == "" or tail[0] in "/?#"


def _split(url: str) -> _Url | None:
    if "\\" in url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # not a URL at all (e.g. "http://[": an unclosed IPv6 host)
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    rest = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return _Url(f"{parts.scheme}://{parts.netloc}".lower(), rest)
