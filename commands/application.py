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
from eventsourcing.persistence import JSONTranscoder, Mapper, Recording, Transcoding
from eventsourcing.utils import get_topic

from commands.group_commit import GroupCommit
from commands.personal import FieldCipher, PersonalDataMapper
from commands.transcodings import DataclassAsDict
from ledger.account import Account
from ledger.credits import Credit
from ledger.invoices import Invoice, LineItem
from ledger.journal import JournalEntry, Posting
from ledger.meta import EventMeta
from ledger.methods import PaymentMethod
from ledger.money import Money
from ledger.payments import PaymentAttempt
from ledger.personal import PERSONAL_FIELDS
from ledger.profile import BillingProfile
from ledger.subscriptions import Subscription

APPLICATION_NAME = "ledger"
SNAPSHOT_INTERVAL = 50
VALUE_TYPES = (
    BillingProfile,
    Money,
    PaymentMethod,
    Subscription,
    LineItem,
    Invoice,
    PaymentAttempt,
    Credit,
    Posting,
    JournalEntry,
)


class EventMetaAsDict(Transcoding):
    type = EventMeta
    name = "event_meta"

    def encode(self, obj: EventMeta) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> EventMeta:
        return EventMeta.from_dict(data)


class LedgerApplication(Application[UUID]):
    name = APPLICATION_NAME
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Account: SNAPSHOT_INTERVAL}

    def __init__(
        self, env: Mapping[str, str] | None = None, personal: FieldCipher | None = None
    ) -> None:
        """`personal` seals the events' personal fields (the composition root always gives
        one); without it they are stored in clear, as before sealing existed."""
        self.personal = personal  # read by construct_mapper, during super().__init__
        super().__init__(env=env)
        # How commands save (commands/base.py `saved`): alone, or sharing transactions with
        # the commands saving at the same time (the composition root turns it on).
        self.group_commit: GroupCommit | None = None

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """`Application.save`, the data keys of every account it seals fields of made ready
        in one round trip first (a page of new accounts would otherwise cost a query each)."""
        if self.personal is not None:
            self.personal.warm(_sealing_accounts(objs), writing=True)
        return super().save(*objs, **kwargs)

    def save_command(self, account: Account) -> list[Recording[UUID]]:
        """One command's account, saved alone or by group commit; answered after commit."""
        group = self.group_commit
        return group.save(account) if group is not None else self.save(account)

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = super().construct_mapper()
        if self.personal is None:
            return mapper
        return PersonalDataMapper(
            mapper.transcoder, self.personal, compressor=mapper.compressor, cipher=mapper.cipher
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EventMetaAsDict())
        for value_type in VALUE_TYPES:
            transcoder.register(DataclassAsDict(value_type))


def _sealing_accounts(objs: tuple[Any, ...]) -> set[UUID]:
    """Accounts with an event to save whose topic has personal fields."""
    events = [e for o in objs for e in (o.pending_events if isinstance(o, Account) else [o])]
    return {e.originator_id for e in events if get_topic(type(e)) in PERSONAL_FIELDS}
