"""In-memory stand-ins for the read side a command drives through a port: the check store
of reconciliation and the refolds of a recompute."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

from commands.reconcile import AccountCheck
from projections.recompute import RecomputeInProgress


class MemoryChecks:
    """commands.ports.CheckStore: the newest check of each account, as the read model keeps
    it (an older check than the stored one is not written)."""

    def __init__(self) -> None:
        self.checks: dict[UUID, AccountCheck] = {}

    def store(self, check: AccountCheck) -> bool:
        kept = self.checks.get(check.account_id)
        if kept is not None and kept.checked_at > check.checked_at:
            return False
        self.checks[check.account_id] = check
        return True


class MemoryRefolds:
    """commands.ports.Refolds: records the order of claims and refolds; `busy` accounts
    refuse the claim as a recompute already running would."""

    def __init__(self, names: list[str], refold: Callable[[UUID], int]) -> None:
        self._names = names
        self._refold = refold
        self.busy: set[UUID] = set()
        self.log: list[str] = []

    def projection_names(self) -> list[str]:
        return list(self._names)

    @contextmanager
    def claim(self, account_id: UUID) -> Iterator[Callable[[], int]]:
        if account_id in self.busy:
            raise RecomputeInProgress()
        self.log.append("claimed")
        try:
            yield lambda: self._refolded(account_id)
        finally:
            self.log.append("released")

    def _refolded(self, account_id: UUID) -> int:
        self.log.append("refolded")
        return self._refold(account_id)
