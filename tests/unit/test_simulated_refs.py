"""The simulated processor's references are accepted by every reference field: a digest
holding a Luhn-valid digit run (about one in two hundred) is written without digits."""

from __future__ import annotations

from itertools import count
from uuid import uuid5

from adapters.simulated.paypal import _agreement
from adapters.simulated.store import _NAMESPACE, sim_ref
from commands.text import contains_card_number, refuse_unsafe_text


def test_a_digest_that_would_look_like_a_card_number_is_written_in_letters() -> None:
    risky = next(str(n) for n in count() if contains_card_number(uuid5(_NAMESPACE, str(n)).hex))
    ref = sim_ref("pm_", risky)
    assert ref.startswith("pm_sim_")
    assert len(ref) == len("pm_sim_") + 32
    assert not any(c.isdigit() for c in ref)
    assert refuse_unsafe_text(ref) == ref


def test_every_reference_of_many_parts_is_accepted_and_stable() -> None:
    refs = [sim_ref("pm_", "cus", str(n)) for n in range(5000)]
    assert all(not contains_card_number(ref) for ref in refs)
    assert refs == [sim_ref("pm_", "cus", str(n)) for n in range(5000)]
    assert all(not contains_card_number(_agreement(ref)) for ref in refs)


def test_an_ordinary_digest_keeps_its_hex_form() -> None:
    ref = sim_ref("cus_", "stripe", "account-1")
    assert all(c in "0123456789abcdef" for c in ref.removeprefix("cus_sim_"))
