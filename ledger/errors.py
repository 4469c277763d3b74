"""Domain errors. Each has a stable code that the edges (HTTP, CLI) pass on unchanged, and
a kind that says what sort of refusal it is; the edges decide what a kind means to their
callers (HTTP statuses: adapters/http/problems.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """What sort of refusal an error is, whatever the edge that reports it:

    invalid      the command's own values break a rule
    not_found    it names something that does not exist (in the ledger or at a processor)
    conflict     it collides with the current state or with another request: a concurrent
                 change, a duplicate, work in progress, the ledger and a processor telling
                 different stories; reading again (and retrying) may resolve it
    refused      a business rule forbids it in the current state (closed, bad debt, ...)
    forbidden    this caller may not do it, whatever the state
    declined     a payment processor declined the payment method
    unavailable  something it needs is not configured or not answering; try again later
    """

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    REFUSED = "refused"
    FORBIDDEN = "forbidden"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"


class DomainError(Exception):
    """A command was refused; nothing was recorded. Every subclass declares its `code`
    (stable, public) and its `kind` (tests/unit/test_error_kinds.py checks both)."""

    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind]

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.__doc__ or self.code)
        self.detail = detail or (self.__doc__ or self.code).strip()


class InvalidProfile(DomainError):
    """The billing profile is not valid."""

    code = "invalid_profile"
    kind = ErrorKind.INVALID


class ReasonRequired(DomainError):
    """Support actions must give a reason."""

    code = "reason_required"
    kind = ErrorKind.INVALID


class AccountClosed(DomainError):
    """The account is closed and accepts no further changes."""

    code = "account_closed"
    kind = ErrorKind.REFUSED


class PersonalDataForgotten(DomainError):
    """The account's personal data was forgotten: its billing profile can no longer change."""

    code = "account_forgotten"
    kind = ErrorKind.REFUSED


class CurrencyLocked(DomainError):
    """The account's currency can no longer change."""

    code = "currency_locked"
    kind = ErrorKind.REFUSED


class NothingToChange(DomainError):
    """The update changes nothing."""

    code = "nothing_to_change"
    kind = ErrorKind.INVALID


class AccountNotSettled(DomainError):
    """The account still has active subscriptions or an outstanding balance."""

    code = "account_not_settled"
    kind = ErrorKind.REFUSED


class BadDebtBlocked(DomainError):
    """The account has unpaid bad debt: no plan changes or purchases until it is paid."""

    code = "bad_debt_blocked"
    kind = ErrorKind.REFUSED


class SupportOnly(DomainError):
    """Only support staff may do this."""

    code = "support_only"
    kind = ErrorKind.FORBIDDEN


class ProviderCustomerNotLinked(DomainError):
    """The processor customer is not the one linked to this account."""

    code = "provider_customer_not_linked"
    kind = ErrorKind.CONFLICT
