"""The second set of console actions read their forms in words: an amount as its currency
writes it (two, zero or three decimal places), days and minutes as numbers; anything else
is refused with what to write instead."""

from __future__ import annotations

import pytest

from adapters.http.console import act_clock, act_in_flight, act_refund
from adapters.http.console.acting import Unclear


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("1,234", "USD", 123400),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_an_amount_is_read_as_its_currency_writes_it(text: str, currency: str, minor: int) -> None:
    assert act_refund.minor_units(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "said"),
    [
        ("1.005", "USD", "at most 2 decimal places in USD"),
        ("15.5", "JPY", "no decimal places in JPY"),
        ("0", "USD", "more than zero"),
        ("-3", "USD", "more than zero"),
        ("ten", "USD", "e.g. 12.55"),
        ("NaN", "USD", "more than zero"),
    ],
)
def test_an_amount_the_currency_cannot_write_is_refused_in_words(
    text: str, currency: str, said: str
) -> None:
    with pytest.raises(Unclear, match=said):
        act_refund.minor_units(text, currency)


def test_a_refund_form_names_its_payment() -> None:
    parsed = act_refund.parse({"attempt_id": ["a-1"], "amount": ["5"], "currency": ["USD"]}, "why")
    assert (parsed.path, parsed.body.model_dump()) == (
        {"attempt_id": "a-1"},
        {"reason": "why", "amount": 500},
    )
    with pytest.raises(Unclear, match="Choose a payment"):
        act_refund.parse({"amount": ["5"]}, "why")


@pytest.mark.parametrize("days", ["", "0", "-1", "367", "soon", "Infinity"])
def test_days_to_advance_a_clock_are_a_number_up_to_a_year(days: str) -> None:
    with pytest.raises(Unclear, match="Days"):
        act_clock.parse({"days": [days]}, "why")


def test_a_clock_advances_by_part_of_a_day_too() -> None:
    assert act_clock.parse({"days": ["0.5"]}, "why").body.model_dump()["days"] == 0.5


def test_minutes_in_flight_are_whole_and_default_to_fifteen() -> None:
    assert act_in_flight.parse({}, "why").body.model_dump()["older_than_minutes"] == 15
    with pytest.raises(Unclear, match="whole number of minutes"):
        act_in_flight.parse({"older_than_minutes": ["1.5"]}, "why")
