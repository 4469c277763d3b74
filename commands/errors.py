"""Errors of the application layer (the domain's own are in ledger.errors)."""

from ledger.errors import DomainError, ErrorKind
from ledger.payments import AttemptInFlight


class AccountNotFound(DomainError):
    """No such account."""

    code = "account_not_found"
    kind = ErrorKind.NOT_FOUND


class ConcurrencyConflict(DomainError):
    """The account kept changing under this command; try again."""

    code = "concurrency_conflict"
    kind = ErrorKind.CONFLICT


class CommandIdReused(DomainError):
    """This idempotency key was already used for a different request."""

    code = "idempotency_key_reused"
    kind = ErrorKind.CONFLICT


class CommandInFlight(AttemptInFlight):
    """The first request with this idempotency key is still being processed (its payment's
    outcome is not known yet); retry after `retry_after_s` seconds for its answer."""

    code = "idempotency_key_in_use"
    kind = ErrorKind.CONFLICT
    retry_after_s = 2


class CommandIdRequired(DomainError):
    """This operation must carry an idempotency key (command id)."""

    code = "idempotency_key_required"
    kind = ErrorKind.INVALID


class NoBadDebt(DomainError):
    """The account has no uncollectible invoice to pay."""

    code = "no_bad_debt"
    kind = ErrorKind.REFUSED


class InvoiceNotUncollectible(DomainError):
    """Paying bad debt charges uncollectible invoices only: this invoice is not one."""

    code = "invoice_not_uncollectible"
    kind = ErrorKind.REFUSED


class ProcessorNotConfigured(DomainError):
    """This deployment has no such payment processor configured."""

    code = "processor_not_configured"
    kind = ErrorKind.UNAVAILABLE


class ProviderCustomerDrifted(DomainError):
    """The customer was changed at the processor since the ledger last wrote it; nothing
    was overwritten (reconcile, then repair explicitly)."""

    code = "provider_customer_drifted"
    kind = ErrorKind.CONFLICT

    def __init__(self, detail: str | None = None, fields: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.fields = fields


class CustomerReasonRefused(DomainError):
    """A customer cannot give a reason: the reason on events is the audit trail's."""

    code = "customer_reason_refused"
    kind = ErrorKind.INVALID
