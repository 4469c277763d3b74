"""How a `ledger` command ends: exit codes, one-line refusals, and termination signals.

Exit codes (docs/operations.md):
  0  done
  1  the command ran and found a problem, or the ledger could not do it (database
     unreachable, schema not migrated, a check that failed)
  2  refused, nothing changed: bad input (a value the command models reject, a usage error)
     or a domain refusal (a DomainError, with its stable code)
  128+N  stopped by signal N (SIGTERM: 143, SIGHUP: 129), after a clean shutdown

SIGTERM and SIGHUP become a normal exit (SystemExit), so `finally` blocks and `atexit`
hooks run: the store feed thread is stopped and the embedded PostgreSQL is stopped by its
last user. Without this, the default action ends the process on the spot and leaves them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import eventsourcing.persistence as es
import psycopg
import typer
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError
from typer.core import TyperGroup

from adapters.bootstrap import SchemaNotMigrated
from adapters.kafka.relay import DatabaseOutage
from adapters.kafka.topics import TopicMismatch
from ledger.errors import DomainError

REFUSED = 2
FAILED = 1
TERMINATING = (signal.SIGTERM, signal.SIGHUP)


class LedgerGroup(TyperGroup):
    """The top-level command group: every subcommand runs inside `invoke`, so bad input and
    domain refusals from any of them end as one line on stderr instead of a traceback."""

    # typer.Context is the public name of the (vendored) click context typer passes here.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        with exit_on_termination():
            try:
                return super().invoke(ctx)
            except ValidationError as error:
                _end(f"invalid input: {describe_validation(error)}", REFUSED)
            except DomainError as error:
                _end(f"refused {error.code}: {error.detail}", REFUSED)
            except (SchemaNotMigrated, DatabaseOutage, TopicMismatch) as error:
                _end(f"error: {error}", FAILED)
            except (psycopg.OperationalError, es.OperationalError) as error:
                _end(f"error: database unavailable: {_one_line(str(error))}", FAILED)
            except KafkaConnectionError as error:
                _end(f"error: Kafka unavailable: {_one_line(str(error))}", FAILED)


def describe_validation(error: ValidationError) -> str:
    """Every field error of a pydantic ValidationError, on one line."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
    return _one_line("; ".join(parts))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _end(message: str, code: int) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextmanager
def exit_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise SystemExit(128 + signal number)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _exit_for_signal) for sig in TERMINATING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_for_signal(signum: int, _frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)
