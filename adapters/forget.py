"""Forgetting an account, wired: the command over the PostgreSQL adapters, and what holds
personal data beside the events and read models erased with it: the customer values that
reconciliation findings quote, and the simulated processor's customers (a real processor's
customer is erased at the processor: docs/operations.md)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from adapters.bootstrap import Container
from adapters.postgres.personal_data import PostgresPersonalData
from commands.base import CommandResult
from commands.forget import forget_account
from commands.models import CommandContext, ForgetAccount
from commands.personal import PersonalDataMapper
from commands.reconcile_compare import FindingKind
from ledger.personal import ERASED

_CUSTOMER_FINDINGS = [FindingKind.CUSTOMER_DRIFTED.value, FindingKind.CUSTOMER_NOT_SYNCED.value]


def personal_data(container: Container) -> PostgresPersonalData:
    mapper = container.app.mapper
    if not isinstance(mapper, PersonalDataMapper) or container.data_keys is None:
        raise RuntimeError("this container seals no personal data")
    return PostgresPersonalData(container.connection, mapper, container.data_keys)


def forget(container: Container, account_id: UUID, ctx: CommandContext) -> CommandResult:
    result = forget_account(
        container.deps, personal_data(container), ForgetAccount(account_id=account_id), ctx
    )
    erase_findings(container, account_id)
    if container.simulated is not None:  # the embedded default's processor: asked to erase
        container.simulated.erase_account(account_id)
    return result


def erase_findings(container: Container, account_id: UUID) -> None:
    """Findings about the processor's customer quote the ledger's and the processor's
    values of its fields (names, emails): they read as erased. A later reconciliation
    compares the erased profile and finds the processor's customer not synced until it is
    pushed (or deleted at the processor)."""
    with container.connection() as conn:
        conn.execute(
            "UPDATE reconciliation_findings SET ledger_value = %s, processor_value = %s"
            " WHERE account_id = %s AND kind = ANY(%s)",
            (ERASED, ERASED, account_id, _CUSTOMER_FINDINGS),
        )


def seal_everything(container: Container) -> Iterator[tuple[UUID, int]]:
    """`accounts encrypt-personal-data`: every account's personal fields stored in clear,
    sealed (account by account); yields each account and how many events changed."""
    personal = personal_data(container)
    for account_id in personal.accounts_with_personal_data():
        yield account_id, personal.seal_stored(account_id)
