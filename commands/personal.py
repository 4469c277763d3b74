"""Personal data sealed per account: the ports (data keys, field cipher) and the mapper
that seals personal fields when an event is stored and opens them when it is read.

The domain never sees ciphertext: a stored event's personal fields are opened on the way
in, or read as their erased values (ledger/personal.py) once the account's key is
destroyed. Events stored before sealing existed hold those fields in clear and read as
they always did (`accounts encrypt-personal-data` seals them in place). Snapshots are not
sealed: forgetting an account deletes its snapshots, and the next one holds erased state.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from ledger.personal import PERSONAL_FIELDS, erased_value, get_path, set_path

SEALED = "sealed"  # a sealed field is stored as {"sealed": "<base64 nonce+ciphertext>"}


class DataKeys(Protocol):
    """Per-account data keys. A KMS-backed store can replace the PostgreSQL table."""

    def key_for_writing(self, account_id: UUID) -> bytes | None:
        """The account's key, created on first use; None once it was destroyed."""
        ...

    def key_for_reading(self, account_id: UUID) -> bytes | None:
        """The account's key; None if it has none or it was destroyed."""
        ...

    def destroy(self, account_id: UUID) -> None:
        """Destroys the key for good (and refuses to create another for the account)."""
        ...

    def warm(self, account_ids: Collection[UUID], writing: bool) -> None:
        """Makes these accounts' keys ready in one round trip (created too, when `writing`):
        a page of events then seals or opens without a query per account."""
        ...


class FieldCipher(Protocol):
    def seal(self, account_id: UUID, field: str, plaintext: str) -> str | None:
        """The sealed text; None when the account's key is destroyed."""
        ...

    def open(self, account_id: UUID, field: str, sealed: str) -> str | None:
        """The plaintext; None when the key is destroyed. Tampered text raises."""
        ...

    def warm(self, account_ids: Collection[UUID], writing: bool = False) -> None:
        """`DataKeys.warm`: before sealing or opening the fields of many accounts."""
        ...


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED in value


class PersonalDataMapper(Mapper[UUID]):
    def __init__(
        self,
        transcoder: Transcoder,
        fields: FieldCipher,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.fields = fields

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        paths = PERSONAL_FIELDS.get(get_topic(type(domain_event)))
        if paths:
            domain_event = self._sealed_copy(domain_event, paths)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        paths = PERSONAL_FIELDS.get(get_topic(type(event)))
        if paths:
            self._open_in_place(event, paths)
        return event

    def resealed(self, stored_event: StoredEvent) -> StoredEvent | None:
        """The stored event with its personal fields sealed, if any of them is in clear
        (stored before sealing existed); None when there is nothing to seal. The topic
        stays as stored; the state is today's encoding of the same event."""
        event = Mapper.to_domain_event(self, stored_event)
        paths = PERSONAL_FIELDS.get(get_topic(type(event)), ())
        if not any(isinstance(get_path(vars(event), p), str) for p in paths):
            return None
        self._open_in_place(event, paths)  # a mix of sealed and clear fields: open first
        sealed = self.to_stored_event(event)
        if sealed.state == stored_event.state:
            return None  # the key is gone: the fields already read as erased, in clear
        return StoredEvent(
            originator_id=stored_event.originator_id,
            originator_version=stored_event.originator_version,
            topic=stored_event.topic,
            state=sealed.state,
        )

    def _sealed_copy(self, event: Any, paths: tuple[str, ...]) -> Any:
        state = dict(vars(event))
        account_id = state["originator_id"]
        for path in paths:
            value = get_path(state, path)
            if isinstance(value, str):
                sealed = self.fields.seal(account_id, path, value)
                set_path(state, path, {SEALED: sealed} if sealed else erased_value(path))
        copy = object.__new__(type(event))
        object.__setattr__(copy, "__dict__", state)
        return copy

    def _open_in_place(self, event: Any, paths: tuple[str, ...]) -> None:
        state = event.__dict__
        for path in paths:
            value = get_path(state, path)
            if is_sealed(value):
                opened = self.fields.open(event.originator_id, path, value[SEALED])
                set_path(state, path, erased_value(path) if opened is None else opened)
