import pytest

from ledger.errors import InvalidProfile
from ledger.iso import minor_unit_exponent
from ledger.profile import BillingProfile


def test_a_valid_profile_keeps_its_fields() -> None:
    p = BillingProfile("Ada Lovelace", "ada@example.com", "GB", "GBP")
    assert p.as_dict() == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "country": "GB",
        "currency": "GBP",
        "tax_id": None,
    }


@pytest.mark.parametrize(
    ("name", "email", "country", "currency"),
    [
        ("", "a@example.com", "GB", "GBP"),
        (" padded ", "a@example.com", "GB", "GBP"),
        ("x" * 201, "a@example.com", "GB", "GBP"),
        ("Ada", "not-an-email", "GB", "GBP"),
        ("Ada", "a@b", "GB", "GBP"),
        ("Ada", "a@example.com", "XX", "GBP"),
        ("Ada", "a@example.com", "gb", "GBP"),
        ("Ada", "a@example.com", "GB", "XAU"),
        ("Ada", "a@example.com", "GB", "ABC"),
    ],
)
def test_an_invalid_profile_is_refused(name: str, email: str, country: str, currency: str) -> None:
    with pytest.raises(InvalidProfile):
        BillingProfile(name, email, country, currency)


def test_with_changes_ignores_fields_not_given() -> None:
    p = BillingProfile("Ada", "ada@example.com", "GB", "GBP")
    assert p.with_changes(name="Ada L", email=None).name == "Ada L"
    assert p.with_changes(name="Ada L", email=None).email == "ada@example.com"


def test_minor_units_follow_iso_4217() -> None:
    assert [minor_unit_exponent(c) for c in ("USD", "JPY", "KWD")] == [2, 0, 3]
