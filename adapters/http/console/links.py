"""Sign-in links to the support console, for `ledger console link` and for an SSO front
door (POST /internal/console/links): a short-lived, single-use URL that signs one support
principal in. Only a principal the keys know as support (a fixed entry or an active key of
the `api_keys` table) gets one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from pydantic import BaseModel

from adapters.bootstrap import Container
from adapters.http.auth import ApiKeys, Principal
from adapters.postgres.console_links import PostgresConsoleLinks
from ledger.errors import DomainError, ErrorKind
from ledger.meta import ActorKind

SIGN_IN_PATH = "/console/sign-in"


class NotASupportPrincipal(DomainError):
    """Only a support principal (one with an active support key) can sign in to the
    console."""

    code = "not_a_support_principal"
    kind = ErrorKind.INVALID


class SignInLink(BaseModel):
    principal_id: str
    url: str
    expires_at: datetime


def support_principal(keys: ApiKeys, principal_id: str) -> Principal | None:
    principal = keys.known(principal_id)
    return principal if principal is not None and principal.kind is ActorKind.SUPPORT else None


def make_link(
    container: Container,
    keys: ApiKeys,
    principal_id: str,
    made_by: str,
    base_url: str | None = None,
) -> SignInLink:
    """`base_url`: where the browser reaches the console (LEDGER_CONSOLE_URL by default)."""
    if support_principal(keys, principal_id) is None:
        raise NotASupportPrincipal()
    settings = container.settings
    ttl = timedelta(seconds=settings.console_link_ttl_s)
    token = PostgresConsoleLinks(container.connection).create(principal_id, made_by, ttl)
    base = (base_url or settings.console_url).rstrip("/")
    url = f"{base}{SIGN_IN_PATH}?{urlencode({'token': token})}"
    return SignInLink(principal_id=principal_id, url=url, expires_at=datetime.now(UTC) + ttl)
