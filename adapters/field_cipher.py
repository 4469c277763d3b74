"""AES-256-GCM over one personal field (the FieldCipher port of commands/personal.py).

Sealed text = base64(nonce (12 bytes) || ciphertext+tag). The associated data binds it to
the account and the field ("<account id>/<field path>"), so a sealed value copied into
another account's event, or into another field, fails to open instead of reading as data
it is not."""

from __future__ import annotations

import base64
import os
from collections.abc import Collection
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from commands.personal import DataKeys

NONCE_BYTES = 12


def associated_data(account_id: UUID, field: str) -> bytes:
    return f"{account_id}/{field}".encode()


class AesGcmFields:
    def __init__(self, keys: DataKeys) -> None:
        self.keys = keys

    def seal(self, account_id: UUID, field: str, plaintext: str) -> str | None:
        key = self.keys.key_for_writing(account_id)
        if key is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), associated_data(account_id, field))
        return base64.b64encode(nonce + sealed).decode()

    def warm(self, account_ids: Collection[UUID], writing: bool = False) -> None:
        if account_ids:
            self.keys.warm(account_ids, writing)

    def open(self, account_id: UUID, field: str, sealed: str) -> str | None:
        key = self.keys.key_for_reading(account_id)
        if key is None:
            return None
        raw = base64.b64decode(sealed)
        plain = AESGCM(key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data(account_id, field)
        )
        return plain.decode()
