"""Errors of the application layer (the domain's own are in ledger.errors)."""

from ledger.errors import DomainError
from ledger.payments import AttemptInFlight


class AccountNotFound(DomainError):
    """No such account."""

    code = "account_not_found"
    http_status = 404


class ConcurrencyConflict(DomainError):
    """The account kept changing under this command; try again."""

    code = "concurrency_conflict"
    http_status = 409


class CommandIdReused(DomainError):
    """This idempotency key was already used for a different request."""

    code = "idempotency_key_reused"
    http_status = 409


class CommandInFlight(AttemptInFlight):
    """The first request with this idempotency key is still being processed (its payment's
    outcome is not known yet); retry after `retry_after_s` seconds for its answer."""

    code = "idempotency_key_in_use"
    http_status = 409
    retry_after_s = 2


class CommandIdRequired(DomainError):
    """This operation must carry an idempotency key (command id)."""

    code = "idempotency_key_required"
    http_status = 428


class NoBadDebt(DomainError):
    """The account has no uncollectible invoice to pay."""

    code = "no_bad_debt"
    http_status = 409


class ProcessorNotConfigured(DomainError):
    """This deployment has no such payment processor configured."""

    code = "processor_not_configured"
    http_status = 503


class ProviderCustomerDrifted(DomainError):
    """The customer was changed at the processor since the ledger last wrote it; nothing
    was overwritten (reconcile, then repair explicitly)."""

    code = "provider_customer_drifted"
    http_status = 409

    def __init__(self, detail: str | None = None, fields: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.fields = fields


class CustomerReasonRefused(DomainError):
    """A customer cannot give a reason: the reason on events is the audit trail's."""

    code = "customer_reason_refused"
