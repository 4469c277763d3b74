"""The fleet page's words: a lag as a person reads it, and health reasons in words."""

from __future__ import annotations

import pytest

from adapters.http.console.fleet import reasons_in_words, waited


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (0.4, "0 s"),
        (45, "45 s"),
        (90, "1 min 30 s"),
        (3600, "1 h"),
        (3 * 3600 + 10 * 60 + 5, "3 h 10 min"),
        (43 * 86_400 + 3 * 3600 + 59, "43 d 3 h"),
    ],
)
def test_a_lag_reads_in_its_two_largest_units(seconds: float, shown: str) -> None:
    assert waited(seconds) == shown


def test_reasons_are_words_and_an_unknown_one_stays_as_it_is() -> None:
    assert reasons_in_words(("attempt_in_flight", "something_new")) == [
        "a payment attempt has been in flight too long (stuck)",
        "something_new",
    ]
