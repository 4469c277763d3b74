"""Money and status as the invoice PDF writes them."""

from __future__ import annotations

import pytest

from adapters.pdf.invoice import STATUS_LABELS, format_money
from ledger.invoices import DisplayStatus


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123456, "USD", "1,234.56 USD"),
        (5, "EUR", "0.05 EUR"),
        (-2000, "USD", "-20.00 USD"),
        (1500, "JPY", "1,500 JPY"),
        (1234567, "KWD", "1,234.567 KWD"),
        (0, "GBP", "0.00 GBP"),
    ],
)
def test_minor_units_are_written_with_the_currency_exponent(
    amount: int, currency: str, text: str
) -> None:
    assert format_money(amount, currency) == text


def test_every_display_status_has_a_label() -> None:
    assert set(STATUS_LABELS) == set(DisplayStatus)
    assert "uncollectible, then paid" in STATUS_LABELS[DisplayStatus.RECOVERED]
