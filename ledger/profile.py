"""The billing identity every other process references."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ledger.errors import InvalidProfile
from ledger.iso import COUNTRIES, CURRENCIES
from ledger.personal import ERASED, ERASED_EMAIL
from ledger.values import Immutable

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail
# system's job; the edges validate with a full RFC parser before we get here.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_NAME = 200
_MAX_EMAIL = 254
# Shape checks of VAT/tax ids for the countries where a pattern is cheap and well known;
# other countries accept any 4-20 letters, digits or dashes. Validity is the tax office's.
_TAX_ID = {
    "AT": r"ATU\d{8}",
    "BE": r"BE[01]\d{9}",
    "DE": r"DE\d{9}",
    "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]",
    "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}",
    "GB": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "IE": r"IE\d{7}[A-W][A-I]?|IE\d[A-Z+*]\d{5}[A-W]",
    "IT": r"IT\d{11}",
    "NL": r"NL\d{9}B\d{2}",
    "US": r"\d{2}-\d{7}",
    "AU": r"\d{11}",
    "CA": r"\d{9}(RT\d{4})?",
}
_ANY_TAX_ID = r"[A-Z0-9-]{4,20}"


@dataclass(frozen=True)
class BillingProfile(Immutable):
    name: str
    email: str
    country: str
    currency: str
    tax_id: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_email(self.email)
        _check_tax_id(self.country, self.tax_id)
        if self.country not in COUNTRIES:
            raise InvalidProfile(f"unknown ISO 3166-1 country code: {self.country!r}")
        if self.currency not in CURRENCIES:
            raise InvalidProfile(f"unknown ISO 4217 currency code: {self.currency!r}")

    def with_changes(self, **changes: str | None) -> BillingProfile:
        """A copy with the given fields changed; None leaves a field as it is (to remove a
        tax id, pass an empty string)."""
        given: dict[str, str | None] = {k: v for k, v in changes.items() if v is not None}
        if given.get("tax_id") == "":
            given["tax_id"] = None
        return replace(self, **given)  # type: ignore[arg-type]

    def erased(self) -> BillingProfile:
        """Itself with its personal fields erased (country and currency stay: the money
        history is kept in that currency and taxed in that country)."""
        return replace(self, name=ERASED, email=ERASED_EMAIL, tax_id=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "country": self.country,
            "currency": self.currency,
            "tax_id": self.tax_id,
        }


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > _MAX_NAME or name != name.strip():
        raise InvalidProfile(f"name must be 1-{_MAX_NAME} characters without outer spaces")


def _check_email(email: str) -> None:
    if len(email) > _MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidProfile(f"not an email address: {email!r}")


def _check_tax_id(country: str, tax_id: str | None) -> None:
    if tax_id is None:
        return
    pattern = _TAX_ID.get(country, _ANY_TAX_ID)
    if not re.fullmatch(pattern, tax_id):
        raise InvalidProfile(f"tax id {tax_id!r} does not have the shape used in {country}")
