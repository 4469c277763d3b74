"""Given events, when a command, then events (or a typed refusal and no events)."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from ledger.account import Account, AccountStatus
from ledger.account.identity import Closed, ProfileUpdated
from ledger.errors import AccountClosed, NothingToChange, ReasonRequired
from ledger.meta import Actor, ActorKind, EventMeta, Surface
from ledger.profile import BillingProfile

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PROFILE = BillingProfile("Ada Lovelace", "ada@example.com", "GB", "GBP")


def meta(kind: ActorKind = ActorKind.SERVICE, reason: str | None = None) -> EventMeta:
    return EventMeta(
        actor=Actor("who", kind),
        surface=Surface.IAPI,
        correlation_id=uuid4(),
        occurred_at=AT,
        reason=reason,
    )


def opened() -> Account:
    account = Account.open(uuid4(), PROFILE, meta())
    account.collect_events()
    return account


def test_opening_records_the_profile_and_who_did_it() -> None:
    m = meta()
    account = Account.open(uuid4(), PROFILE, m)
    [event] = account.collect_events()
    assert isinstance(event, Account.Opened)
    assert (event.name, event.email, event.country, event.currency) == (
        "Ada Lovelace",
        "ada@example.com",
        "GB",
        "GBP",
    )
    assert event.meta == m
    assert account.status is AccountStatus.OPEN
    assert account.opened_at == AT


def test_updating_the_profile_records_the_new_profile() -> None:
    account = opened()
    account.update_profile(PROFILE.with_changes(email="ada@lovelace.org"), meta())
    [event] = account.collect_events()
    assert isinstance(event, ProfileUpdated)
    assert event.email == "ada@lovelace.org"
    assert account.profile.email == "ada@lovelace.org"


def test_an_update_that_changes_nothing_is_refused() -> None:
    account = opened()
    with pytest.raises(NothingToChange):
        account.update_profile(PROFILE, meta())
    assert account.collect_events() == []


def test_closing_records_when() -> None:
    account = opened()
    account.close(meta())
    [event] = account.collect_events()
    assert isinstance(event, Closed)
    assert account.status is AccountStatus.CLOSED
    assert account.closed_at == AT


def test_a_closed_account_refuses_changes() -> None:
    account = opened()
    account.close(meta())
    account.collect_events()
    with pytest.raises(AccountClosed):
        account.close(meta())
    with pytest.raises(AccountClosed):
        account.update_profile(PROFILE.with_changes(name="Other"), meta())
    assert account.collect_events() == []


def test_support_actions_need_a_reason() -> None:
    with pytest.raises(ReasonRequired):
        meta(ActorKind.SUPPORT, reason="  ")
    assert meta(ActorKind.SUPPORT, reason="fraud check").reason == "fraud check"


def test_event_meta_round_trips_through_a_dict() -> None:
    m = meta(ActorKind.SUPPORT, reason="asked by phone")
    assert EventMeta.from_dict(m.as_dict()) == m
