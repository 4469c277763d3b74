"""The billing identity every other process references."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ledger.errors import InvalidProfile
from ledger.iso import COUNTRIES, CURRENCIES

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail
# system's job; the edges validate with a full RFC parser before we get here.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_NAME = 200
_MAX_EMAIL = 254


@dataclass(frozen=True)
class BillingProfile:
    name: str
    email: str
    country: str
    currency: str

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_email(self.email)
        if self.country not in COUNTRIES:
            raise InvalidProfile(f"unknown ISO 3166-1 country code: {self.country!r}")
        if self.currency not in CURRENCIES:
            raise InvalidProfile(f"unknown ISO 4217 currency code: {self.currency!r}")

    def with_changes(self, **changes: str | None) -> BillingProfile:
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **given)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "country": self.country,
            "currency": self.currency,
        }


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > _MAX_NAME or name != name.strip():
        raise InvalidProfile(f"name must be 1-{_MAX_NAME} characters without outer spaces")


def _check_email(email: str) -> None:
    if len(email) > _MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidProfile(f"not an email address: {email!r}")
