"""The billing run: renewals, credit expiry and dunning due now. Accounts are billed a page
at a time, each page's steps saved together (`commands.month_end`); accounts on a test
clock are billed one by one at their clock's time (`commands.one_by_one`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from commands.base import Deps
from commands.models import CommandContext, RunBilling
from commands.month_end import bill_page
from commands.one_by_one import Reached, RunReport, at_its_time, bill_account

__all__ = ["PAGE", "Reached", "RunReport", "at_its_time", "run_billing", "run_one_by_one"]

PAGE = 500  # accounts whose steps share a transaction


def run_billing(deps: Deps, cmd: RunBilling, ctx: CommandContext, page: int = PAGE) -> RunReport:
    """Renewals, credit expiry and dunning due now, `page` accounts per transaction. Safe to
    rerun: the invoices and attempts it creates have ids derived from what they are for.
    One account's failure never stops the run nor undoes another's steps."""
    parts: dict[int, RunReport] = {}
    batched: list[tuple[int, UUID]] = []
    for index, account_id in enumerate(cmd.account_ids):
        own = at_its_time(deps, account_id)
        if own is deps:
            batched.append((index, account_id))
        else:
            parts[index] = _one(own, account_id, ctx)
    for chunk in _pages(batched, page):
        for (index, _), part in zip(
            chunk, bill_page(deps, [a for _, a in chunk], ctx), strict=True
        ):
            parts[index] = part
    report = RunReport()
    for index in sorted(parts):
        report.add(parts[index])
    return report


def run_one_by_one(deps: Deps, cmd: RunBilling, ctx: CommandContext) -> RunReport:
    """The run with every step of every account in its own transaction (the reference the
    batched run is compared and measured against)."""
    report = RunReport()
    for account_id in cmd.account_ids:
        report.add(_one(at_its_time(deps, account_id), account_id, ctx))
    return report


def _one(deps: Deps, account_id: UUID, ctx: CommandContext) -> RunReport:
    part = RunReport(accounts=1)
    try:
        bill_account(deps, account_id, ctx, part)
    except Exception as error:  # one account's failure must not stop the run
        part.errors[str(account_id)] = f"{type(error).__name__}: {error}"
    return part


def _pages(accounts: Sequence[tuple[int, UUID]], size: int) -> Iterator[list[tuple[int, UUID]]]:
    """Pages of at most `size` distinct accounts, in order (an account named twice is billed
    twice, the second time in a later page)."""
    page: list[tuple[int, UUID]] = []
    ids: set[UUID] = set()
    for index, account_id in accounts:
        if len(page) >= size or account_id in ids:
            yield page
            page, ids = [], set()
        page.append((index, account_id))
        ids.add(account_id)
    if page:
        yield page
