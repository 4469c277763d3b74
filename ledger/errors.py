"""Domain errors. Each has a stable code that the edges (HTTP, CLI) pass on unchanged."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    code = "domain_error"
    http_status = 422

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.__doc__ or self.code)
        self.detail = detail or (self.__doc__ or self.code).strip()


class InvalidProfile(DomainError):
    """The billing profile is not valid."""

    code = "invalid_profile"


class ReasonRequired(DomainError):
    """Support actions must give a reason."""

    code = "reason_required"


class AccountClosed(DomainError):
    """The account is closed and accepts no further changes."""

    code = "account_closed"
    http_status = 409


class CurrencyLocked(DomainError):
    """The account's currency can no longer change."""

    code = "currency_locked"
    http_status = 409


class NothingToChange(DomainError):
    """The update changes nothing."""

    code = "nothing_to_change"


class AccountNotSettled(DomainError):
    """The account still has active subscriptions or an outstanding balance."""

    code = "account_not_settled"
    http_status = 409


class BadDebtBlocked(DomainError):
    """The account has unpaid bad debt: no plan changes or purchases until it is paid."""

    code = "bad_debt_blocked"
    http_status = 409


class SupportOnly(DomainError):
    """Only support staff may do this."""

    code = "support_only"
    http_status = 403


class ProviderCustomerNotLinked(DomainError):
    """The processor customer is not the one linked to this account."""

    code = "provider_customer_not_linked"
    http_status = 409
