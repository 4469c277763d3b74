"""Processor tokens for tests, unique per account and free of digit runs: a random hex
string holds a Luhn-valid run of 13+ digits now and then, which the text rule rightly
refuses as a card number (a flaky test, not a bug)."""

from __future__ import annotations

from uuid import UUID

_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def token_of(account_id: UUID, length: int) -> str:
    """`length` (at most 32) characters of the account id, in letters only."""
    return account_id.hex[:length].translate(_DIGITS_AS_LETTERS)
