"""Forgetting an account's personal data (crypto-shredding).

Personal fields stored in clear (before sealing existed) are sealed first, then
`AccountForgotten` is recorded, then the account's data key is destroyed and its
snapshots deleted: from then on every personal field of the account reads as erased,
wherever a sealed copy of it is (the event store, Kafka, a backup). A repeat, or a retry
after a crash between recording and shredding, shreds again and records nothing."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from commands.base import CommandResult, Deps, load_act_save, meta_of
from commands.models import CommandContext, ForgetAccount
from ledger.errors import NothingToChange


class PersonalData(Protocol):
    def seal_stored(self, account_id: UUID) -> int:
        """Seals the account's personal fields stored in clear; how many events changed."""
        ...

    def shred(self, account_id: UUID) -> None:
        """Destroys the account's data key and every stored copy of its state in clear."""
        ...


def forget_account(
    deps: Deps, personal: PersonalData, cmd: ForgetAccount, ctx: CommandContext
) -> CommandResult:
    personal.seal_stored(cmd.account_id)
    try:
        result = load_act_save(
            deps, cmd.account_id, ctx, lambda account: account.forget(meta_of(deps, ctx))
        )
    except NothingToChange:
        personal.shred(cmd.account_id)  # forgotten before: shred again (a crash may have
        raise  # come between the event and the key's destruction)
    personal.shred(cmd.account_id)
    return result
