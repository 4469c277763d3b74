"""An honest in-process payment gateway for unit tests: it records every call and answers
with scripted outcomes (success by default), per processor method reference."""

from __future__ import annotations

from collections import defaultdict, deque

from commands.ports import ChargeRequest, ChargeResult, ProcessorUnavailable, RefundRequest
from ledger.payments import Processor

UNAVAILABLE = "__unavailable__"


class FakeGateway:
    def __init__(self) -> None:
        self.charges: list[ChargeRequest] = []
        self.refunds: list[RefundRequest] = []
        self._scripts: dict[str, deque[str]] = defaultdict(deque)
        self._always: dict[str, str] = {}
        self._results: dict[str, ChargeResult] = {}

    def decline_next(self, method_ref: str, *codes: str) -> None:
        """The next charges on this method answer these decline codes, in order."""
        self._scripts[method_ref].extend(codes)

    def always_decline(self, method_ref: str, code: str) -> None:
        self._always[method_ref] = code

    def go_down_next(self, method_ref: str) -> None:
        self._scripts[method_ref].append(UNAVAILABLE)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.charges.append(request)
        script = self._scripts[request.method_ref]
        code = script.popleft() if script else self._always.get(request.method_ref)
        if code == UNAVAILABLE:
            raise ProcessorUnavailable("timed out")
        result = (
            ChargeResult(succeeded=False, decline_code=code)
            if code
            else ChargeResult(succeeded=True, processor_payment_id=f"pay_{request.attempt_id[:8]}")
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
