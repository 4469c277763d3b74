# ruff: noqa: RUF001  (the point of these tests is text in every script)
"""The one rule for text from outside (commands.text) and the processor reference shapes
(commands.references)."""

from __future__ import annotations

import sys
import unicodedata
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.models import RevokeCredit
from commands.references import RefKind, check_reference
from commands.text import (
    contains_card_number,
    luhn_valid,
    refuse_control_characters,
    refuse_unsafe_id,
    refuse_unsafe_text,
)
from ledger.payments import Processor

CONTROL_CHARACTERS = [
    chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cc"
]
INVISIBLE_REORDERING = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e"]
INVISIBLE_REORDERING += ["\u2066", "\u2067", "\u2068", "\u2069", "\ufeff"]
OTHER_REFUSED = ["\u2028", "\u2029", "\ud800", "\udfff", "\ufdd0", "\ufffe", "\U0010ffff"]

KEPT = [
    "Alice Acme GmbH",
    "山田太郎株式会社",  # Japanese
    "شركة الأمل",  # Arabic
    "\u200fשלום\u200e",  # Hebrew between right-to-left and left-to-right marks
    "می\u200cخواهم",  # Persian, with a zero-width non-joiner
    "क्\u200dष",  # Devanagari with a zero-width joiner
    "Zoë 👨\u200d👩\u200d👧 🚀",  # emoji, a ZWJ family
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag: tag characters
    "Ünïcödé naïve café – “quoted” — soft\u00adhyphen",
    "refund ticket 4242-42",
    "order 1234567890123",  # 13 digits, fails Luhn
    "call +1 415-555-0100",
]

# Luhn-valid test numbers of the card schemes (Stripe's and the schemes' documented ones)
CARDS = [
    "4242424242424242",  # Visa, 16
    "4222222222222",  # Visa, 13
    "378282246310005",  # Amex, 15
    "5555555555554444",  # Mastercard
    "6011111111111117",  # Discover
    "3566002020360505",  # JCB
    "6200000000000005",  # UnionPay
    "6011000990139424",  # Discover
    "4000056655665556",  # Visa debit
    "6205500000000000004",  # UnionPay, 19
]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_refused_anywhere_in_text(char: str) -> None:
    for text in (f"Alice{char}Acme", char, f"{char}x", f"x{char}"):
        with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
            refuse_unsafe_text(text)
        with pytest.raises(ValueError, match="not allowed"):
            refuse_unsafe_id(text)
        with pytest.raises(ValueError, match="not allowed"):
            refuse_control_characters(text)


def test_there_are_65_control_characters_and_nul_is_one() -> None:
    assert len(CONTROL_CHARACTERS) == 65
    assert "\x00" in CONTROL_CHARACTERS


@pytest.mark.parametrize("char", INVISIBLE_REORDERING + OTHER_REFUSED, ids=ascii)
def test_separators_surrogates_noncharacters_and_bidi_controls_are_refused(char: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        refuse_unsafe_text(f"support{char}note")


@pytest.mark.parametrize("text", KEPT)
def test_every_script_and_emoji_pass_unchanged(text: str) -> None:
    assert refuse_unsafe_text(text) == text


@pytest.mark.parametrize("number", CARDS)
def test_card_numbers_are_refused_as_typed(number: str) -> None:
    assert luhn_valid(number)
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    dashed = spaced.replace(" ", "-")
    for typed in (number, spaced, dashed, f"card {spaced} exp 12/30", f"pm{number}x"):
        with pytest.raises(ValueError, match="card number"):
            refuse_unsafe_text(typed)


def test_a_card_number_followed_by_its_cvc_or_after_other_digits_is_found() -> None:
    assert contains_card_number("4242 4242 4242 4242 123")
    assert contains_card_number("ticket 77 4242-4242-4242-4242")
    assert contains_card_number("3782 822463 10005")  # Amex grouping 4-6-5


def test_a_card_number_in_another_script_of_digits_is_found() -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "4242424242424242")
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "4242424242424242")
    assert contains_card_number(arabic_indic)
    assert contains_card_number(fullwidth)


def test_digit_runs_that_are_not_card_numbers_pass() -> None:
    assert not luhn_valid("4242424242424241")
    for text in ("4242424242424241", "424242424242", "42424242424242424242", "12 34 56"):
        assert refuse_unsafe_text(text) == text
    # two separators in a row, or another separator, end a run
    assert not contains_card_number("4242 4242  4242 4242")
    assert not contains_card_number("4242/4242/4242/4242")


def test_a_canonical_uuid_is_an_id_whatever_its_digits_but_not_in_free_text() -> None:
    digits_only = "42424242-4242-4242-4242-424242424242"
    assert contains_card_number(digits_only)
    assert refuse_unsafe_id(digits_only) == digits_only
    assert refuse_unsafe_id(str(uuid4())) is not None
    with pytest.raises(ValueError, match="card number"):
        refuse_unsafe_id("4242424242424242")


def test_an_id_the_ledger_derives_is_an_id_whatever_its_digits() -> None:
    # The soak (seed 20261204, account 1517) downgraded a plan: the credit it was given,
    # `<invoice id>-credit`, holds the Luhn-valid run 57-9688-4996446 and could not be
    # revoked.
    credit_id = "db8f2e47-3fbf-4a57-9688-4996446b2d71-credit"
    assert contains_card_number(credit_id)
    assert RevokeCredit(account_id=uuid4(), credit_id=credit_id).credit_id == credit_id
    with pytest.raises(ValueError, match="card number"):
        refuse_unsafe_id("note-4242424242424242")


def test_the_billing_pages_actor_is_an_id_whatever_its_accounts_digits() -> None:
    # A browser test's account (random uuid4) made every billing page refuse its customer:
    # the actor `billing-portal:<account id>` held a Luhn-valid run across the id's groups.
    actor = "billing-portal:db8f2e47-3fbf-4a57-9688-4996446b2d71"
    assert contains_card_number(actor)
    assert refuse_unsafe_id(actor) == actor
    with pytest.raises(ValueError, match="card number"):
        refuse_unsafe_id("billing-portal:4242424242424242")


@given(st.uuids(), st.sampled_from(["", "-credit"]), st.sampled_from(["", "billing-portal:"]))
def test_every_id_the_ledger_issues_is_accepted_back(uuid: UUID, suffix: str, prefix: str) -> None:
    """Ids are uuid4 or uuid5 values (`new_id_for`), a downgrade's credit adds `-credit` to
    its invoice's id, and the billing pages' actor is `billing-portal:<account id>`: each
    must be accepted where an id is taken."""
    assert refuse_unsafe_id(f"{prefix}{uuid}{suffix}") == f"{prefix}{uuid}{suffix}"


@pytest.mark.parametrize(
    ("processor", "kind", "value"),
    [
        (Processor.STRIPE, RefKind.METHOD, "pm_1NXWPnJ2eZvKYlo2abcd"),
        (Processor.STRIPE, RefKind.METHOD, "card_1AbC"),
        (Processor.STRIPE, RefKind.CUSTOMER, "cus_NffrFeUfNV2Hib"),
        (Processor.STRIPE, RefKind.PAYMENT, "pi_3MtwBwLkdIwHu7ix28a3tqPa"),
        (Processor.STRIPE, RefKind.PAYMENT, "ch_3MmlLrLkdIwHu7ix0snN0B15"),
        (Processor.STRIPE, RefKind.REFUND, "re_1Nispe2eZvKYlo2Cd31jOCgZ"),
        (Processor.STRIPE, RefKind.DISPUTE, "dp_1MtJUT2eZvKYlo2CNaw2HvEv"),
        (Processor.BRAINTREE, RefKind.METHOD, "3h8ry4j"),
        (Processor.BRAINTREE, RefKind.CUSTOMER, "594019"),
        (Processor.BRAINTREE, RefKind.PAYMENT, "f2a3b9c1"),
        (Processor.BRAINTREE, RefKind.METHOD, "a_token-of-36-characters-0123456789"),
        (None, RefKind.REFUND, "7d0f4b8c-3f6e-4d51-a8a3-2b1f0c9e6d40"),
    ],
)
def test_processor_references_of_the_documented_shapes_pass(
    processor: Processor | None, kind: RefKind, value: str
) -> None:
    assert check_reference(processor, kind, value) == value


@pytest.mark.parametrize(
    ("processor", "kind", "value"),
    [
        (Processor.STRIPE, RefKind.METHOD, "cus_NffrFeUfNV2Hib"),  # another object
        (Processor.STRIPE, RefKind.METHOD, "pm_"),
        (Processor.STRIPE, RefKind.METHOD, "pm_4242424242424242"),  # a card number in it
        (Processor.STRIPE, RefKind.METHOD, "4242424242424242"),
        (Processor.STRIPE, RefKind.CUSTOMER, "594019"),
        (Processor.STRIPE, RefKind.PAYMENT, "re_1Nispe2eZvKYlo2Cd31jOCgZ"),
        (Processor.STRIPE, RefKind.DISPUTE, "pm_x"),
        (Processor.BRAINTREE, RefKind.METHOD, "4242424242424242"),
        (Processor.BRAINTREE, RefKind.METHOD, "x" * 37),
        (Processor.BRAINTREE, RefKind.CUSTOMER, "a b"),
        (Processor.BRAINTREE, RefKind.PAYMENT, "txn\x00"),
        (None, RefKind.REFUND, "4242-4242-4242-4242"),
        (None, RefKind.REFUND, "refund for Alice"),
        (None, RefKind.REFUND, ""),
    ],
)
def test_anything_else_where_a_reference_belongs_is_refused(
    processor: Processor | None, kind: RefKind, value: str
) -> None:
    with pytest.raises(ValueError, match=r"not a|not allowed|card number"):
        check_reference(processor, kind, value)
