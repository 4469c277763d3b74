"""Ports the write side depends on; adapters and test fakes implement them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class IdSource(Protocol):
    def __call__(self) -> UUID: ...
