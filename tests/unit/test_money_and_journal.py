import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.journal import JournalEntry, LedgerAccount, Posting, UnbalancedEntry
from ledger.money import CurrencyMismatch, InvalidAmount, Money, prorate, split

A = LedgerAccount


def test_money_is_integer_minor_units_in_a_known_currency() -> None:
    assert Money(1999, "USD") + Money(1, "USD") == Money(2000, "USD")
    with pytest.raises(InvalidAmount):
        Money(19.99, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(True, "USD")
    with pytest.raises(InvalidAmount):
        Money(1, "ZZZ")


def test_currencies_do_not_mix() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(1, "USD") + Money(1, "EUR")


def test_proration_rounds_half_away_from_zero() -> None:
    assert prorate(Money(1000, "USD"), 1, 3) == Money(333, "USD")
    assert prorate(Money(1000, "USD"), 2, 3) == Money(667, "USD")
    assert prorate(Money(5, "USD"), 1, 2) == Money(3, "USD")
    assert prorate(Money(-5, "USD"), 1, 2) == Money(-3, "USD")
    with pytest.raises(InvalidAmount):
        prorate(Money(5, "USD"), 3, 2)


@given(st.integers(-(10**9), 10**9), st.integers(1, 366), st.data())
def test_split_parts_always_add_up(amount: int, total: int, data: st.DataObject) -> None:
    used = data.draw(st.integers(0, total))
    whole = Money(amount, "EUR")
    a, b = split(whole, used, total)
    assert a + b == whole
    assert abs(a.amount * total - amount * used) * 2 <= total


def test_an_entry_balances_per_currency() -> None:
    entry = JournalEntry.of(
        (A.RECEIVABLE, A.REVENUE, Money(1000, "USD")),
        (A.CUSTOMER_CREDIT, A.RECEIVABLE, Money(200, "USD")),
        (A.CASH_STRIPE, A.RECEIVABLE, Money(0, "USD")),
    )
    assert len(entry.postings) == 4
    assert entry.balance_of(A.RECEIVABLE, "USD") == 800
    assert JournalEntry.from_list(entry.as_list()) == entry
    with pytest.raises(UnbalancedEntry):
        JournalEntry((Posting(A.RECEIVABLE, Money(1, "USD")),))
    with pytest.raises(UnbalancedEntry):
        JournalEntry((Posting(A.RECEIVABLE, Money(1, "USD")), Posting(A.REVENUE, Money(-1, "EUR"))))


@pytest.mark.parametrize(
    ("amount", "currency", "plain", "grouped"),
    [
        (123456, "USD", "1234.56", "1,234.56"),
        (-5, "EUR", "-0.05", "-0.05"),
        (1500000, "JPY", "1500000", "1,500,000"),
        (1234, "KWD", "1.234", "1.234"),
    ],
)
def test_decimal_text_writes_major_units_exactly(
    amount: int, currency: str, plain: str, grouped: str
) -> None:
    money = Money(amount, currency)
    assert money.decimal_text() == plain
    assert money.decimal_text(grouping=True) == grouped
