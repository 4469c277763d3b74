"""Simulated charges and refunds for both processors (the PaymentGateway port) and the
payments as the processor holds them (PaymentLookup, for reconciliation). Every charge is
kept (`sim_charges`) under the attempt id the ledger sent, as Stripe keeps an idempotency
key: a repeated charge answers the first answer and `find_charge` finds it."""

from __future__ import annotations

from uuid import UUID

from adapters.simulated.cards import Behaviour, magic_card
from adapters.simulated.store import Row, SimulatedStore, sim_ref
from commands.ports import (
    ChargeRequest,
    ChargeResult,
    DisputeState,
    ProcessorDispute,
    ProcessorPayment,
    ProcessorRefund,
    ProcessorRefused,
    RefundRequest,
)
from ledger.payments import Processor
from ledger.personal import ERASED, ERASED_EMAIL

AUTHENTICATION_REQUIRED = "authentication_required"
CANCELED = "payment_intent_canceled"
AUTHENTICATION_FAILED = "payment_intent_authentication_failure"
MISSING = "invalid_payment_method"  # Stripe's resource_missing in the ledger's terms


def _payment_ref(processor: Processor, attempt_id: str) -> str:
    prefix = "pi_" if processor is Processor.STRIPE else ""
    return sim_ref(prefix, processor.value, attempt_id)


def charge_outcome(method: Row | None, request: ChargeRequest) -> tuple[str, str | None]:
    """(status, decline code) for a new charge on this method."""
    if method is None or method["detached"]:
        return "failed", MISSING
    if method["kind"] == "paypal":
        return "succeeded", None
    card = magic_card(method["card_token"])
    if card is None:
        return "failed", MISSING
    if card.behaviour is Behaviour.DECLINES_AT_CHARGE:
        return "failed", card.decline_code
    needs_3ds = request.on_session or not method["authenticated"]
    if card.behaviour is Behaviour.AUTHENTICATES and needs_3ds:
        return "requires_action", AUTHENTICATION_REQUIRED
    return "succeeded", None


def _result(row: Row) -> ChargeResult:
    status, pid = row["status"], row["payment_id"]
    if status == "succeeded":
        return ChargeResult(succeeded=True, processor_payment_id=pid)
    waiting = status == "requires_action"
    return ChargeResult(
        succeeded=False,
        processor_payment_id=pid if status != "failed" else None,
        decline_code=row["decline_code"],
        requires_action=waiting,
        client_secret=f"{pid}_secret" if waiting else None,
    )


class SimulatedGateway:
    def __init__(self, store: SimulatedStore) -> None:
        self._store = store

    def erase_account(self, account_id: UUID) -> None:
        """The simulated processor forgets the account's customers (adapters/forget.py)."""
        self._store.erase_account(account_id, ERASED, ERASED_EMAIL)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if (seen := self._charge_row(request.attempt_id)) is not None:
            return _result(seen)
        status, code = charge_outcome(self._store.method(request.method_ref), request)
        self._store.write(
            "INSERT INTO sim_charges (attempt_id, processor, payment_id, method_ref, amount,"
            " currency, status, decline_code) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (attempt_id) DO NOTHING",
            request.attempt_id,
            request.processor.value,
            _payment_ref(request.processor, request.attempt_id),
            request.method_ref,
            request.amount.amount,
            request.amount.currency,
            status,
            code,
        )
        row = self._charge_row(request.attempt_id)
        if row is None:
            raise ProcessorRefused("the simulated charge was not kept")
        return _result(row)

    def refund(self, request: RefundRequest) -> str:
        done = self._store.one(
            "SELECT processor_refund_id FROM sim_refunds WHERE refund_id = %s", request.refund_id
        )
        if done is not None:
            return str(done["processor_refund_id"])
        payment = self._payment_row(request.processor_payment_id)
        if payment is None or payment["status"] != "succeeded":
            raise ProcessorRefused("no such captured payment")
        if request.amount.amount > payment["amount"] - self._refunded(payment["payment_id"]):
            raise ProcessorRefused("the refund exceeds what is left of the payment")
        prefix = "re_" if request.processor is Processor.STRIPE else ""
        refund_ref = sim_ref(prefix, "refund", request.refund_id)
        self._store.write(
            "INSERT INTO sim_refunds (refund_id, processor_refund_id, payment_id, amount)"
            " VALUES (%s, %s, %s, %s)",
            request.refund_id,
            refund_ref,
            payment["payment_id"],
            request.amount.amount,
        )
        return refund_ref

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        row = self._charge_row(attempt_id)
        return None if row is None else _result(row)

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        self._store.write(
            "UPDATE sim_charges SET status = 'canceled', decline_code = %s"
            " WHERE attempt_id = %s AND status IN ('requires_action', 'requires_payment_method')",
            CANCELED,
            attempt_id,
        )
        row = self._charge_row(attempt_id)
        if row is None:
            raise ProcessorRefused("no such payment")
        return _result(row)

    def authenticate(self, attempt_id: str) -> ChargeResult:
        """The customer completes 3-D Secure on a waiting charge (what the browser does)."""
        self._store.write(
            "UPDATE sim_charges SET status = 'succeeded', decline_code = NULL"
            " WHERE attempt_id = %s AND status = 'requires_action'",
            attempt_id,
        )
        row = self._charge_row(attempt_id)
        if row is None or row["status"] != "succeeded":
            raise ProcessorRefused("the payment is not waiting for the customer")
        return _result(row)

    def fail_authentication(self, attempt_id: str) -> ChargeResult:
        """The customer fails 3-D Secure: as at Stripe, the payment is left without a usable
        payment method (`requires_payment_method`), not cancelled, until someone cancels it."""
        self._store.write(
            "UPDATE sim_charges SET status = 'requires_payment_method', decline_code = %s"
            " WHERE attempt_id = %s AND status = 'requires_action'",
            AUTHENTICATION_FAILED,
            attempt_id,
        )
        row = self._charge_row(attempt_id)
        if row is None or row["status"] != "requires_payment_method":
            raise ProcessorRefused("the payment is not waiting for the customer")
        return _result(row)

    def authenticate_payment(self, payment_id: str, *, success: bool = True) -> ChargeResult:
        """`authenticate` (or `fail_authentication`), by the payment's id (what the payment
        page's Stripe.js knows)."""
        row = self._payment_row(payment_id)
        if row is None:
            raise ProcessorRefused("no such payment")
        if not success:
            return self.fail_authentication(row["attempt_id"])
        return self.authenticate(row["attempt_id"])

    def dispute(self, processor_payment_id: str, state: DisputeState) -> ProcessorDispute:
        """The cardholder's bank disputes the whole payment (or decides an open dispute):
        kept, so reconciliation finds it. The ledger hears of it as from the processor's
        webhook (commands/processor_events)."""
        payment = self._payment_row(processor_payment_id)
        if payment is None or payment["status"] != "succeeded":
            raise ProcessorRefused("no such captured payment")
        prefix = "dp_" if payment["processor"] == Processor.STRIPE.value else ""
        dispute_id = sim_ref(prefix, "dispute", processor_payment_id)
        self._store.write(
            "INSERT INTO sim_disputes (dispute_id, payment_id, amount, state)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (dispute_id) DO UPDATE SET state = %s",
            dispute_id,
            processor_payment_id,
            payment["amount"],
            state.value,
            state.value,
        )
        return ProcessorDispute(dispute_id, state, payment["amount"])

    def _charge_row(self, attempt_id: str) -> Row | None:
        return self._store.one("SELECT * FROM sim_charges WHERE attempt_id = %s", attempt_id)

    def _payment_row(self, payment_id: str) -> Row | None:
        return self._store.one("SELECT * FROM sim_charges WHERE payment_id = %s", payment_id)

    def _refunded(self, payment_id: str) -> int:
        row = self._store.one(
            "SELECT coalesce(sum(amount), 0) AS total FROM sim_refunds WHERE payment_id = %s",
            payment_id,
        )
        return int(row["total"]) if row else 0


class SimulatedPayments:
    """PaymentLookup over the simulated processor's kept payments, for one processor."""

    def __init__(self, store: SimulatedStore, processor: Processor) -> None:
        self._store = store
        self._processor = processor

    def find_payment(self, processor_payment_id: str) -> ProcessorPayment | None:
        row = self._store.one(
            "SELECT * FROM sim_charges WHERE payment_id = %s AND processor = %s"
            " AND status = 'succeeded'",
            processor_payment_id,
            self._processor.value,
        )
        if row is None:
            return None
        refunds = self._store.all(
            "SELECT * FROM sim_refunds WHERE payment_id = %s ORDER BY refund_id",
            processor_payment_id,
        )
        disputes = self._store.all(
            "SELECT * FROM sim_disputes WHERE payment_id = %s ORDER BY dispute_id",
            processor_payment_id,
        )
        return ProcessorPayment(
            processor_payment_id,
            int(row["amount"]),
            row["currency"],
            tuple(
                ProcessorRefund(r["processor_refund_id"], r["refund_id"], int(r["amount"]))
                for r in refunds
            ),
            tuple(
                ProcessorDispute(d["dispute_id"], DisputeState(d["state"]), int(d["amount"]))
                for d in disputes
            ),
        )
