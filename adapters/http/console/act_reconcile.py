"""Reconcile now (support route `support_check`: compare the account with its processors
and store the findings; the result page lists them) and run one repair of a finding
(support route `support_repair`: the repair's events, then the re-check). The account page
offers each repair its latest check proposes; the confirmation names the finding and says
what the repair will do."""

from __future__ import annotations

from typing import Any, cast

from adapters.bootstrap import Container
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.routers.reconciliation import CheckBody, RepairBody, Repaired
from commands.models import RepairAction
from queries.accounts import AccountView
from queries.reconciliation import FindingView, ReconciliationView, get_reconciliation

REPAIRS = {
    RepairAction.PUSH_CUSTOMER: "writes the account's billing profile (name, email) over the"
    " processor's customer",
    RepairAction.ADOPT_CUSTOMER: "takes the processor customer's name and email into the"
    " account's billing profile",
    RepairAction.PUSH_DEFAULT: "makes the ledger's default payment method the processor's default",
    RepairAction.DETACH_METHOD: "detaches, at the processor, a payment method the ledger does"
    " not use",
    RepairAction.REMOVE_METHOD: "removes from the account a payment method that is gone at"
    " the processor",
    RepairAction.RESOLVE_ATTEMPT: "asks the processor what became of the payment in flight"
    " and records its answer (paid, declined, or never received)",
    RepairAction.RECORD_REFUND: "records the refund the processor made, with the processor's"
    " amount",
    RepairAction.RECORD_DISPUTE: "records the dispute (or its close) as the processor has it",
}
# A repair's fields besides its action, as the account page's form carries them.
REPAIR_FIELDS = ("processor", "method_ref", "method_id", "attempt_id", "refund_id", "dispute_id")


def latest(container: Container, account: AccountView) -> ReconciliationView | None:
    with container.connection() as conn:
        return get_reconciliation(conn, account.account_id)


def parse_check(_form: Form, reason: str) -> Parsed:
    return Parsed(CheckBody(reason=reason))


def describe_check(container: Container, account: AccountView, _parsed: Parsed) -> list[str]:
    return [
        f"{account.name}'s account is compared now with what its processors hold: the"
        " customer, payment methods, payments in flight, refunds and disputes.",
        "Nothing in the ledger changes and no event is recorded: the findings are stored as"
        " the account's latest reconciliation, each with the repair that fixes it (or a"
        " note that a person must look).",
        "Your reason goes to the check's log line.",
    ]


def present_check(outcome: ReconciliationView) -> dict[str, Any]:
    return {"reconciliation": outcome}


def parse_repair(form: Form, reason: str) -> Parsed:
    action = one(form, "action")
    if not action:
        raise Unclear("Choose a repair from the account's latest reconciliation.")
    fields = {name: one(form, name) for name in REPAIR_FIELDS if one(form, name)}
    return Parsed(RepairBody(action=action, reason=reason, **fields))


def finding_of(check: ReconciliationView | None, body: RepairBody) -> FindingView | None:
    """The latest check's finding this repair repairs."""
    asked = body.model_dump(exclude={"reason"}, exclude_none=True, mode="json")
    for finding in check.findings if check else []:
        for repair in finding.repairs or []:
            offered = repair.model_dump(exclude_none=True)
            if all(asked.get(k) == v for k, v in offered.items()):
                return finding
    return None


def said(finding: FindingView) -> str:
    kind = finding.kind.replace("_", " ")
    values = ""
    if finding.ledger_value or finding.processor_value:
        values = (
            f": the ledger has {finding.ledger_value or 'nothing'}, {finding.processor} has"
            f" {finding.processor_value or 'nothing'}"
        )
    return f"{kind} at {finding.processor} for {finding.subject}{values}"


def describe_repair(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    body = cast(RepairBody, parsed.body)  # parse_repair made it
    finding = finding_of(latest(container, account), body)
    what = REPAIRS[body.action]
    words = [f"The repair {body.action.value} {what}."]
    if finding is None:
        words.insert(0, "No finding of the latest reconciliation proposes this repair.")
    else:
        words.insert(0, f"Finding: {said(finding)}.")
    return [
        *words,
        "A ReconciliationRepaired event records the repair, who ran it and why, beside the"
        " events of the change itself.",
        "Then the account is checked again, and the result shows what the processors and the"
        " ledger say now.",
    ]


def present_repair(outcome: Repaired) -> dict[str, Any]:
    return {"reconciliation": outcome.reconciliation}


CHECK = Action(
    slug="reconcile",
    operation="support_check",
    title="Reconcile now",
    parse=parse_check,
    describe=describe_check,
    present=present_check,
)
REPAIR = Action(
    slug="repair",
    operation="support_repair",
    title="Repair a reconciliation finding",
    parse=parse_repair,
    describe=describe_repair,
    present=present_repair,
)
