"""ledger/iso.py agrees with kept ISO data: pycountry (ISO 3166-1 countries) and iso4217 (the
ISO 4217 maintenance agency's table, with minor units). The domain keeps its own copy
(ledger/ imports only the standard library and eventsourcing); these test-only packages
catch a drift when they are upgraded (`uv lock --upgrade-package pycountry iso4217`)."""

from __future__ import annotations

import iso4217
import pycountry

from ledger.iso import COUNTRIES, CURRENCIES, minor_unit_exponent

# Fund codes (ISO's IsFund): units of account, nobody is billed in them. Codes without minor
# units (precious metals, bond units, SDR, XSU, XUA, XTS, XXX) are left out as well.
FUND_CODES = frozenset("BOV CHE CHW CLF COU MXV USN UYI UYW".split())
ISO_4217 = {c.code: c.exponent for c in iso4217.Currency}


def test_countries_are_iso_3166_1_alpha_2() -> None:
    assert {c.alpha_2 for c in pycountry.countries} == COUNTRIES


def test_currencies_are_iso_4217_without_funds_and_units_of_account() -> None:
    billable = {code for code, exponent in ISO_4217.items() if exponent is not None}
    assert billable - FUND_CODES == CURRENCIES


def test_minor_units_are_iso_4217s() -> None:
    wrong = {c: (minor_unit_exponent(c), ISO_4217[c]) for c in CURRENCIES}
    assert {c: pair for c, pair in wrong.items() if pair[0] != pair[1]} == {}


def test_pycountry_and_iso4217_name_the_same_currencies() -> None:
    assert {c.alpha_3 for c in pycountry.currencies} == set(ISO_4217)
