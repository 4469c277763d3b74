"""An honest in-process payment gateway for unit tests: it records every call and answers
with scripted outcomes (success by default), per processor method reference. A charge
scripted to require action (3-D Secure) waits, as at Stripe, until the test authenticates
it (`authenticate`) or it is cancelled (`cancel_charge`). A failed authentication leaves it
open, as Stripe's `requires_payment_method` does: the customer can authenticate again (and
pay) until it is cancelled."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

from commands.ports import (
    ChargeRequest,
    ChargeResult,
    PaymentGateway,
    ProcessorRefused,
    ProcessorUnavailable,
    RefundRequest,
)
from ledger.payments import Processor

UNAVAILABLE = "__unavailable__"
REQUIRES_ACTION = "__requires_action__"
AUTHENTICATION_REQUIRED = "authentication_required"
CANCELED = "payment_intent_canceled"


class FakeGateway:
    def __init__(self) -> None:
        self.charges: list[ChargeRequest] = []
        self.refunds: list[RefundRequest] = []
        self._scripts: dict[str, deque[str]] = defaultdict(deque)
        self._always: dict[str, str] = {}
        self._results: dict[str, ChargeResult] = {}
        self.cancels: list[str] = []
        self.cancel_unavailable = False
        self.cancel_refused = False  # the processor refuses the cancel, the payment unchanged
        self._open: set[str] = set()  # waiting charges the customer can still confirm

    def decline_next(self, method_ref: str, *codes: str) -> None:
        """The next charges on this method answer these decline codes, in order."""
        self._scripts[method_ref].extend(codes)

    def always_decline(self, method_ref: str, code: str) -> None:
        self._always[method_ref] = code

    def go_down_next(self, method_ref: str) -> None:
        self._scripts[method_ref].append(UNAVAILABLE)

    def require_action_next(self, method_ref: str) -> None:
        """The next charge on this method asks the customer to authenticate."""
        self._scripts[method_ref].append(REQUIRES_ACTION)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.charges.append(request)
        script = self._scripts[request.method_ref]
        code = script.popleft() if script else self._always.get(request.method_ref)
        if code == UNAVAILABLE:
            raise ProcessorUnavailable("timed out")
        if code == REQUIRES_ACTION:
            result = ChargeResult(
                succeeded=False,
                processor_payment_id=_payment_id(request.attempt_id),
                decline_code=AUTHENTICATION_REQUIRED,
                requires_action=True,
                client_secret=f"{_payment_id(request.attempt_id)}_secret",
            )
            self._open.add(request.attempt_id)
        elif code:
            result = ChargeResult(succeeded=False, decline_code=code)
        else:
            result = ChargeResult(
                succeeded=True, processor_payment_id=_payment_id(request.attempt_id)
            )
        self._results[request.attempt_id] = result
        return result

    def refund(self, request: RefundRequest) -> str:
        self.refunds.append(request)
        return f"re_{request.refund_id[:8]}"

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        seen = [c for c in self.charges if c.attempt_id == attempt_id]
        return self._results.get(attempt_id) if seen else None

    def charges_for(self, method_ref: str) -> list[ChargeRequest]:
        return [c for c in self.charges if c.method_ref == method_ref]

    def authenticate(self, attempt_id: str, *, success: bool = True) -> ChargeResult:
        """The customer completes (or fails) authentication of a waiting charge, or of one
        whose authentication failed and that was not cancelled since."""
        if attempt_id not in self._open:
            raise ProcessorRefused("the payment is not waiting for the customer")
        pid = _payment_id(attempt_id)
        result = (
            ChargeResult(succeeded=True, processor_payment_id=pid)
            if success
            else ChargeResult(
                succeeded=False,
                processor_payment_id=pid,
                decline_code="payment_intent_authentication_failure",
            )
        )
        self._results[attempt_id] = result
        if success:
            self._open.discard(attempt_id)
        return result

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        if self.cancel_unavailable:
            raise ProcessorUnavailable("timed out")
        self.cancels.append(attempt_id)
        result = self._results[attempt_id]
        if attempt_id in self._open and not self.cancel_refused:
            result = ChargeResult(
                succeeded=False, processor_payment_id=processor_payment_id, decline_code=CANCELED
            )
            self._results[attempt_id] = result
            self._open.discard(attempt_id)
        return result


class ChargeHold:
    """Charges wait here until the test releases them (bounded): `entered` is set once a
    charge is waiting. Holds a request in flight while another arrives."""

    def __init__(self, timeout_s: float) -> None:
        self.entered = threading.Event()
        self._released = threading.Event()
        self._timeout_s = timeout_s

    def release(self) -> None:
        self._released.set()

    def wait(self) -> None:
        self.entered.set()
        if not self._released.wait(self._timeout_s):
            raise ProcessorUnavailable("the test never released the charge")


class BlockingGateway(FakeGateway, ChargeHold):
    """The scripted fake gateway, its charges held (ChargeHold)."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        FakeGateway.__init__(self)
        ChargeHold.__init__(self, timeout_s)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.wait()
        return super().charge(request)


class HeldCharges(ChargeHold):
    """Any gateway, its charges held (ChargeHold); everything else goes straight to it."""

    def __init__(self, inner: PaymentGateway, timeout_s: float = 30.0) -> None:
        super().__init__(timeout_s)
        self.inner = inner

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.wait()
        return self.inner.charge(request)

    def refund(self, request: RefundRequest) -> str:
        return self.inner.refund(request)

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        return self.inner.find_charge(attempt_id, processor)

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        return self.inner.cancel_charge(attempt_id, processor, processor_payment_id)


def _payment_id(attempt_id: str) -> str:
    return f"pay_{attempt_id[:8]}"
