from uuid import uuid4

import pytest
from pydantic import ValidationError

from commands import accounts, base
from commands.errors import AccountNotFound, CommandIdReused, ConcurrencyConflict
from commands.models import CloseAccount, UpdateProfile
from ledger.account import Account
from ledger.account.identity import Closed, ProfileUpdated
from ledger.errors import AccountClosed, NothingToChange
from ledger.meta import ActorKind, EventMeta
from tests.fakes.builders import in_memory_deps, open_cmd, service_ctx, support_ctx
from tests.fakes.clock import FixedClock


def stream(deps: base.Deps, account_id: object) -> list[object]:
    return list(deps.app.events.get(account_id))  # type: ignore[arg-type]


def test_open_account_saves_an_opened_event_stamped_by_the_clock() -> None:
    clock = FixedClock()
    deps = in_memory_deps(clock)
    ctx = service_ctx()
    result = accounts.open_account(deps, open_cmd(), ctx)
    [event] = stream(deps, result.account_id)
    assert isinstance(event, Account.Opened)
    assert event.meta.occurred_at == clock.now()
    assert event.meta.correlation_id == ctx.correlation_id
    assert event.meta.actor.kind is ActorKind.SERVICE
    assert (result.version, result.position, result.replayed) == (1, 1, False)


def test_the_same_command_id_twice_gives_the_same_result_and_no_new_events() -> None:
    deps = in_memory_deps()
    command_id = uuid4()
    first = accounts.open_account(deps, open_cmd(), service_ctx(command_id))
    again = accounts.open_account(deps, open_cmd(), service_ctx(command_id))
    assert again.account_id == first.account_id
    assert again.replayed
    assert len(stream(deps, first.account_id)) == 1


def test_a_command_id_reused_with_another_payload_is_refused() -> None:
    deps = in_memory_deps()
    command_id = uuid4()
    accounts.open_account(deps, open_cmd("Ada"), service_ctx(command_id))
    with pytest.raises(CommandIdReused):
        accounts.open_account(deps, open_cmd("Someone Else"), service_ctx(command_id))


def test_update_and_close_append_to_the_stream() -> None:
    deps = in_memory_deps()
    opened = accounts.open_account(deps, open_cmd(), service_ctx())
    cmd = UpdateProfile(account_id=opened.account_id, email="new@example.com")
    updated = accounts.update_profile(deps, cmd, support_ctx())
    closed = accounts.close_account(deps, CloseAccount(account_id=opened.account_id), service_ctx())
    assert (updated.version, closed.version) == (2, 3)
    events = stream(deps, opened.account_id)
    assert isinstance(events[1], ProfileUpdated)
    assert events[1].meta.reason == "customer asked by phone"
    assert isinstance(events[2], Closed)


def test_refusals_record_nothing() -> None:
    deps = in_memory_deps()
    opened = accounts.open_account(deps, open_cmd(), service_ctx())
    same = UpdateProfile(account_id=opened.account_id, name="Ada Lovelace")
    with pytest.raises(NothingToChange):
        accounts.update_profile(deps, same, service_ctx())
    accounts.close_account(deps, CloseAccount(account_id=opened.account_id), service_ctx())
    with pytest.raises(AccountClosed):
        accounts.close_account(deps, CloseAccount(account_id=opened.account_id), service_ctx())
    assert len(stream(deps, opened.account_id)) == 2


def test_an_unknown_account_is_not_found() -> None:
    with pytest.raises(AccountNotFound):
        accounts.close_account(in_memory_deps(), CloseAccount(account_id=uuid4()), service_ctx())


def test_a_support_command_without_reason_is_refused_before_anything_is_saved() -> None:
    deps = in_memory_deps()
    opened = accounts.open_account(deps, open_cmd(), service_ctx())
    with pytest.raises(Exception, match="reason"):
        accounts.close_account(
            deps, CloseAccount(account_id=opened.account_id), support_ctx(reason=None)
        )
    assert len(stream(deps, opened.account_id)) == 1


def test_a_concurrent_writer_is_retried_then_reported() -> None:
    deps = in_memory_deps()
    opened = accounts.open_account(deps, open_cmd(), service_ctx())
    real_save = deps.app.save
    calls = {"n": 0}

    def racing_save(*aggregates: Account) -> object:
        calls["n"] += 1
        rival = base.load_account(deps.app, opened.account_id)
        rival.update_profile(rival.profile.with_changes(name=f"Rival {calls['n']}"), _meta())
        real_save(rival)
        return real_save(*aggregates)

    deps.app.save = racing_save  # type: ignore[method-assign,assignment]
    with pytest.raises(ConcurrencyConflict):
        accounts.update_profile(
            deps, UpdateProfile(account_id=opened.account_id, name="Mine"), service_ctx()
        )
    assert calls["n"] == base.MAX_ATTEMPTS


def _meta() -> EventMeta:
    return base.meta_of(in_memory_deps(), service_ctx())


def test_commands_are_validated_at_the_edge() -> None:
    with pytest.raises(ValidationError):
        open_cmd(currency="gbp")
