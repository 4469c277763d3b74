"""The eventsourcing application: the event store, snapshots and the account repository.

Persistence is chosen by the environment mapping the composition root passes in
(PostgreSQL in production, in-memory POPO in unit tests); constructing it is the moment it
connects, never import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.account import Account
from ledger.meta import EventMeta
from ledger.profile import BillingProfile

APPLICATION_NAME = "ledger"
SNAPSHOT_INTERVAL = 50


class EventMetaAsDict(Transcoding):
    type = EventMeta
    name = "event_meta"

    def encode(self, obj: EventMeta) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> EventMeta:
        return EventMeta.from_dict(data)


class BillingProfileAsDict(Transcoding):
    type = BillingProfile
    name = "billing_profile"

    def encode(self, obj: BillingProfile) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> BillingProfile:
        return BillingProfile(**data)


class LedgerApplication(Application[UUID]):
    name = APPLICATION_NAME
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Account: SNAPSHOT_INTERVAL}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=env)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EventMetaAsDict())
        transcoder.register(BillingProfileAsDict())
