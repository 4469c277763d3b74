"""The public envelope and the accounts fold: replay of the envelopes equals the aggregate."""

from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.postgres.store_reader import StoreReader
from commands import accounts, base
from commands.models import CloseAccount, UpdateProfile
from ledger.account import AccountStatus
from ledger.envelope import EventEnvelope, event_id_for
from ledger.errors import DomainError
from projections.accounts import AccountsProjection
from projections.base import fold_all
from tests.fakes.builders import in_memory_deps, open_cmd, service_ctx


def all_envelopes(deps: base.Deps) -> list[EventEnvelope]:
    return StoreReader(deps.app).read_after(0, 10_000)


def test_an_envelope_names_the_event_and_carries_meta_and_data() -> None:
    deps = in_memory_deps()
    ctx = service_ctx()
    result = accounts.open_account(deps, open_cmd(), ctx)
    [env] = all_envelopes(deps)
    assert env.event_type == "AccountOpened"
    assert env.schema_version == 3
    assert (env.account_id, env.stream_version, env.position) == (result.account_id, 1, 1)
    assert env.event_id == event_id_for(result.account_id, 1)
    assert env.meta["correlation_id"] == str(ctx.correlation_id)
    assert env.data == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "country": "GB",
        "currency": "GBP",
        "tax_id": None,
    }
    assert EventEnvelope.from_dict(env.to_dict()) == env


actions = st.lists(
    st.tuples(
        st.sampled_from(["open", "rename", "email", "close"]),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["Ada", "Grace", "Hedy"]),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(actions)
def test_folding_the_envelopes_reproduces_every_account(steps: list[tuple[str, int, str]]) -> None:
    deps = in_memory_deps()
    ids: list[UUID] = []
    for action, pick, name in steps:
        _try(deps, ids, action, pick, name)
    rows = fold_all(AccountsProjection(), all_envelopes(deps))
    assert set(rows) == set(ids)
    for account_id in ids:
        account = base.load_account(deps.app, account_id)
        row = rows[account_id]
        assert row is not None
        assert (row.name, row.email, row.country, row.currency, row.tax_id) == tuple(
            account.profile.as_dict().values()
        )
        assert row.status == account.status.value
        assert row.version == row.events_applied == account.version
        assert (row.closed_at is not None) == (account.status is AccountStatus.CLOSED)


def _try(deps: base.Deps, ids: list[UUID], action: str, pick: int, name: str) -> None:
    try:
        if action == "open" or not ids:
            ids.append(accounts.open_account(deps, open_cmd(name), service_ctx()).account_id)
            return
        target = ids[pick % len(ids)]
        if action == "rename":
            cmd = UpdateProfile(account_id=target, name=f"{name} {pick}")
            accounts.update_profile(deps, cmd, service_ctx())
        elif action == "email":
            cmd = UpdateProfile(account_id=target, email=f"{name.lower()}{pick}@example.com")
            accounts.update_profile(deps, cmd, service_ctx())
        else:
            accounts.close_account(deps, CloseAccount(account_id=target), service_ctx())
    except DomainError:
        pass  # refusals are part of the random walk; they must record nothing
