"""Errors of the application layer (the domain's own are in ledger.errors)."""

from ledger.errors import DomainError


class AccountNotFound(DomainError):
    """No such account."""

    code = "account_not_found"
    http_status = 404


class ConcurrencyConflict(DomainError):
    """The account kept changing under this command; try again."""

    code = "concurrency_conflict"
    http_status = 409


class CommandIdReused(DomainError):
    """This command id was already used for a different command."""

    code = "command_id_reused"
    http_status = 409


class CommandIdRequired(DomainError):
    """This operation must carry an idempotency key (command id)."""

    code = "idempotency_key_required"
    http_status = 428


class NoBadDebt(DomainError):
    """The account has no uncollectible invoice to pay."""

    code = "no_bad_debt"
    http_status = 409
