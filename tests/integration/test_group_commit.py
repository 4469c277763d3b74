"""Group commit on the real store: commands that save while another commit runs share the
next transaction; each caller gets its own result only after that commit; one conflicting
command in a shared transaction fails alone (and retries as a lone save would); snapshots
are still taken. A gate holds the first commit until the others are waiting, so which
commands share a transaction is decided, not timed."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from adapters.bootstrap import Container
from commands import accounts
from commands.application import SNAPSHOT_INTERVAL, LedgerApplication
from commands.base import CommandResult, Deps, load_account
from commands.group_commit import GroupCommit
from commands.models import UpdateProfile
from tests.fakes.builders import open_cmd, service_ctx
from tests.harness.process import wait_until


class GatedApp:
    """The application, whose first save waits for the gate; records the streams each
    save wrote."""

    def __init__(self, app: LedgerApplication) -> None:
        self._app = app
        self.gate = threading.Event()
        self.saves: list[set[UUID]] = []

    def save(self, *objs: Any) -> Any:
        if not self.saves:
            assert self.gate.wait(60)
        recordings = self._app.save(*objs)
        self.saves.append({r.domain_event.originator_id for r in recordings})
        return recordings


def gated(container: Container) -> tuple[Deps, GroupCommit, GatedApp]:
    """The container's commands, saving through a group commit over the gated application."""
    app = GatedApp(container.app)
    group = GroupCommit(app)
    container.app.group_commit = group
    return container.deps, group, app


def in_threads(
    calls: list[Callable[[], CommandResult]], group: GroupCommit, app: GatedApp
) -> list[Any]:
    """Runs the calls at once; opens the gate when all but the first are waiting."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        reason = wait_until(
            lambda: group.waiting == len(calls) - 1, timeout_s=60, alive=lambda: True
        )
        assert reason is None, f"{group.waiting} waiting: {reason}"
        app.gate.set()
        return [f.exception() or f.result() for f in futures]


def test_commands_arriving_during_a_commit_share_the_next_transaction(container: Container) -> None:
    ids = [
        accounts.open_account(container.deps, open_cmd(f"G {i}"), service_ctx()).account_id
        for i in range(32)
    ]
    deps, group, app = gated(container)

    def rename(i: int) -> Callable[[], CommandResult]:
        cmd = UpdateProfile(account_id=ids[i], email=f"g{i}@example.com")
        return lambda: accounts.update_profile(deps, cmd, service_ctx())

    results = in_threads([rename(i) for i in range(32)], group, app)
    assert [len(s) for s in app.saves] == [1, 31]  # the first alone, then all the others
    assert all(isinstance(r, CommandResult) for r in results)
    for i, result in enumerate(results):
        account = load_account(container.app, ids[i])
        assert (result.account_id, result.version) == (ids[i], account.version)
        assert account.profile.email == f"g{i}@example.com"
        assert result.position == container.reader.position_of(ids[i], account.version)
    with container.connection() as conn:
        transactions = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM ledger_events WHERE originator_id = ANY(%s)"
            " AND originator_version = 2",
            (ids,),
        ).fetchone()
    assert transactions == (2,)


def update(deps: Deps, account_id: UUID, **changes: str) -> Callable[[], CommandResult]:
    cmd = UpdateProfile(account_id=account_id, **changes)
    return functools.partial(accounts.update_profile, deps, cmd, service_ctx())


def opened(container: Container, count: int) -> list[UUID]:
    return [
        accounts.open_account(container.deps, open_cmd(f"G {i}"), service_ctx()).account_id
        for i in range(count)
    ]


def test_a_conflict_in_a_shared_transaction_fails_only_its_command(container: Container) -> None:
    """Two commands on one account waiting for the same shared transaction: it fails, and
    each of its commands is saved again alone: the others and one of the two succeed at
    once, the other conflicts, reloads and succeeds too (commands/base.py's retry)."""
    ids = opened(container, 4)
    deps, group, app = gated(container)
    calls = [
        update(deps, ids[0], name="Blocker"),
        update(deps, ids[1], email="one@example.com"),
        update(deps, ids[1], name="Second Name"),
        *(update(deps, i, email="o@example.com") for i in ids[2:]),
    ]
    results = in_threads(calls, group, app)
    assert all(isinstance(r, CommandResult) for r in results), results
    both = load_account(container.app, ids[1])
    assert (both.version, both.profile.email, both.profile.name) == (
        3,
        "one@example.com",
        "Second Name",
    )
    assert all(load_account(container.app, i).profile.email == "o@example.com" for i in ids[2:])
    assert [len(s) for s in app.saves] == [1] * 5  # the shared one failed: each saved alone
    assert set().union(*app.saves) == set(ids)


def test_snapshots_are_taken_in_shared_transactions(container: Container) -> None:
    ids = opened(container, 3)
    for version in range(2, SNAPSHOT_INTERVAL):
        for account_id in ids:
            update(container.deps, account_id, name=f"S v{version}")()
    deps, group, app = gated(container)
    in_threads([update(deps, a, name="At Fifty") for a in ids], group, app)
    assert [len(s) for s in app.saves] == [1, 2]
    for account_id in ids:
        snapshots = container.app.snapshots.get(account_id, desc=True, limit=1)  # type: ignore[union-attr]
        assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]
