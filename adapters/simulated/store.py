"""The simulated processor's rows (`sim_*` tables, migration 0014): one small SQL helper the
simulated ports share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid5

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from commands.text import contains_card_number

_NAMESPACE = UUID("5f0c3a9e-2d41-4b7e-9c68-1e7a0b3d5f21")

Row = dict[str, Any]


_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def sim_ref(prefix: str, *parts: str) -> str:
    """A deterministic reference marked as simulated: `<prefix>sim_<32 hex>`. About one hex
    string in two hundred holds a Luhn-valid run of 13+ digits, which every reference field
    refuses as a card number; such a one has its digits written as letters instead (the
    others keep the form they always had, so references already kept still match)."""
    return f"{prefix}sim_{never_a_card_number(uuid5(_NAMESPACE, ':'.join(parts)).hex)}"


def never_a_card_number(text: str) -> str:
    """The text, or its digits written as letters when it holds a Luhn-valid run."""
    return text.translate(_DIGITS_AS_LETTERS) if contains_card_number(text) else text


class SimulatedStore:
    def __init__(self, pool: ConnectionPool[Connection[Any]]) -> None:
        self._pool = pool

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            yield cur

    def one(self, sql: str, *params: object) -> Row | None:
        with self._cursor() as cur:
            cur.execute(sql, params)
            row: Row | None = cur.fetchone()
            return row

    def all(self, sql: str, *params: object) -> list[Row]:
        with self._cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def write(self, sql: str, *params: object) -> None:
        with self._cursor() as cur:
            cur.execute(sql, params)

    def customer(self, customer_id: str) -> Row | None:
        return self.one("SELECT * FROM sim_customers WHERE customer_id = %s", customer_id)

    def ensure_customer(
        self, processor: str, account_id: str, customer_id: str, name: str | None, email: str | None
    ) -> str:
        """The customer made for this account at this processor, created unless it exists."""
        row = self.one(
            "INSERT INTO sim_customers (customer_id, processor, account_id, name, email)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (processor, account_id)"
            " DO UPDATE SET processor = excluded.processor RETURNING customer_id",
            customer_id,
            processor,
            account_id,
            name,
            email,
        )
        return str(row["customer_id"]) if row else customer_id

    def update_customer(self, customer_id: str, name: str | None, email: str | None) -> None:
        self.write(
            "UPDATE sim_customers SET name = coalesce(%s, name), email = coalesce(%s, email)"
            " WHERE customer_id = %s",
            name,
            email,
            customer_id,
        )

    def set_default(self, customer_id: str, method_ref: str | None) -> None:
        self.write(
            "UPDATE sim_customers SET default_method = %s WHERE customer_id = %s",
            method_ref,
            customer_id,
        )

    def method(self, method_ref: str) -> Row | None:
        return self.one("SELECT * FROM sim_methods WHERE method_ref = %s", method_ref)

    def methods_of(self, customer_id: str, kind: str) -> list[Row]:
        return self.all(
            "SELECT * FROM sim_methods WHERE customer_id = %s AND kind = %s AND NOT detached"
            " ORDER BY method_ref",
            customer_id,
            kind,
        )

    def add_method(
        self,
        method_ref: str,
        customer_id: str,
        kind: str,
        *,
        card_token: str | None = None,
        billing_agreement_id: str | None = None,
        payer_email: str | None = None,
        authenticated: bool = False,
    ) -> None:
        self.write(
            "INSERT INTO sim_methods (method_ref, customer_id, kind, card_token,"
            " billing_agreement_id, payer_email, authenticated)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (method_ref) DO UPDATE SET detached = false",
            method_ref,
            customer_id,
            kind,
            card_token,
            billing_agreement_id,
            payer_email,
            authenticated,
        )

    def erase_account(self, account_id: UUID, name: str, email: str) -> None:
        """What a processor does when asked to erase its customer's data: the account's
        customers and their PayPal payer emails are overwritten (charges stay)."""
        self.write(
            "UPDATE sim_customers SET name = %s, email = %s WHERE account_id = %s",
            name,
            email,
            str(account_id),
        )
        self.write(
            "UPDATE sim_methods SET payer_email = %s WHERE payer_email IS NOT NULL"
            " AND customer_id IN (SELECT customer_id FROM sim_customers WHERE account_id = %s)",
            email,
            str(account_id),
        )

    def detach(self, method_ref: str) -> None:
        self.write("UPDATE sim_methods SET detached = true WHERE method_ref = %s", method_ref)
        self.write(
            "UPDATE sim_customers SET default_method = NULL WHERE default_method = %s",
            method_ref,
        )
