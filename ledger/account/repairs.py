"""Support's records on the stream: a recompute request and reconciliation repairs. They
change no state; they are the audit trail of who repaired what and why."""

from __future__ import annotations

from ledger.account.state import AccountEvent, AccountState
from ledger.errors import ReasonRequired, SupportOnly
from ledger.meta import ActorKind, EventMeta
from ledger.payments import Processor


class AccountRecomputeRequested(AccountEvent):
    """Support asked to recompute this account's read models (who and why are in `meta`)."""

    TOPIC = "ledger.events:AccountRecomputeRequested"
    projections: list[str]

    def apply_to(self, account: AccountState) -> None:
        return None  # a record of the request; the account's state is unchanged


class ReconciliationRepaired(AccountEvent):
    """Support repaired a mismatch reconciliation found between the ledger and a processor
    (`repair`, e.g. push-customer; `subject`: the customer, method or attempt; `detail`:
    what was done). The reason is in `meta`. What the repair changed in the ledger, if
    anything, is recorded by its own events; this is the record that it was a repair."""

    TOPIC = "ledger.events:ReconciliationRepaired"
    repair: str
    processor: str
    subject: str
    detail: str

    def apply_to(self, account: AccountState) -> None:
        return None  # a record of the repair; the account's state is unchanged


class ReconciliationRepairStarted(AccountEvent):
    """Support started a repair whose only effect is at the processor and leaves no trace
    there of who made it (detach-method): saved before the processor is asked, so a retry
    of the same repair command that finds the effect made knows it is its own and records
    `ReconciliationRepaired`. A start with no `ReconciliationRepaired` caused by the same
    command is a repair that did not finish (the processor refused, or nobody retried)."""

    TOPIC = "ledger.events:ReconciliationRepairStarted"
    repair: str
    processor: str
    subject: str

    def apply_to(self, account: AccountState) -> None:
        return None  # a record of the attempt; the account's state is unchanged


class Repairs(AccountState):
    def request_recompute(self, projections: list[str], meta: EventMeta) -> None:
        """Records that support recomputes this account's read models (closed accounts too)."""
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("recomputing an account is a support action")
        self.trigger_event(AccountRecomputeRequested, projections=list(projections), meta=meta)

    def record_repair(
        self, repair: str, processor: Processor, subject: str, detail: str, meta: EventMeta
    ) -> None:
        """Records a reconciliation repair (support, with a reason; closed accounts too)."""
        _require_repair_meta(meta)
        self.trigger_event(
            ReconciliationRepaired,
            repair=repair,
            processor=processor.value,
            subject=subject,
            detail=detail,
            meta=meta,
        )

    def start_repair(
        self, repair: str, processor: Processor, subject: str, meta: EventMeta
    ) -> None:
        """Records that a repair is about to act at the processor (before it asks)."""
        _require_repair_meta(meta)
        self.trigger_event(
            ReconciliationRepairStarted,
            repair=repair,
            processor=processor.value,
            subject=subject,
            meta=meta,
        )


def _require_repair_meta(meta: EventMeta) -> None:
    if meta.actor.kind is not ActorKind.SUPPORT:
        raise SupportOnly("reconciliation repairs are a support action")
    if not meta.reason:
        raise ReasonRequired("a reconciliation repair needs a reason")
