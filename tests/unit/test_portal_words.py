"""A refusal on the billing pages reads as a customer would: its own words by code, else
by kind (a 404 for anything not found), else the domain's reason; never the code."""

from __future__ import annotations

from adapters.http.portal.words import in_words
from commands.errors import AccountNotFound
from ledger.methods import InvalidMethod, MethodNeeded, MethodNotFound, MethodNotUsable
from ledger.payments import AttemptInFlight


def test_a_refusal_with_its_own_words() -> None:
    status, heading, text = in_words(MethodNeeded())
    assert status == 409
    assert heading == "This payment method is still needed"
    assert "Add another payment method first" in text


def test_anything_not_found_is_a_404_that_names_nothing_internal() -> None:
    for error in (MethodNotFound(), AccountNotFound()):
        assert in_words(error) == (404, "Not found", "There is no such page for your account.")


def test_otherwise_the_domain_reason_without_its_code() -> None:
    status, heading, text = in_words(InvalidMethod("the card number is not valid"))
    assert (status, heading) == (422, "This could not be done")
    assert text == "The card number is not valid. Nothing was changed."
    for error in (MethodNeeded(), MethodNotUsable(), AttemptInFlight(), InvalidMethod()):
        assert error.code not in " ".join(map(str, in_words(error)))
