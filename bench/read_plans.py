"""The plans PostgreSQL makes for a read, from the very SQL and parameters the query function
sent (a connection stand-in records them), and whether an invoice page walks the keyset
index: an index scan on `invoices_newest` and no sort (a sort would read every matching
invoice of the account before the first row comes out).

Two plans: the custom one, for these parameters (`EXPLAIN (ANALYZE, BUFFERS)`), and the
generic one (`EXPLAIN (GENERIC_PLAN)`, parameters unknown), which a connection may use once
psycopg has prepared the statement (from its fifth execution) and PostgreSQL finds the
generic plan no dearer than the custom ones it made before: the timed calls run either."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from psycopg import Connection

KEYSET_INDEX = "invoices_newest"
INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan"})
SORTS = frozenset({"Sort", "Incremental Sort"})


@dataclass
class Recorder:
    """Passes every statement on to the connection and keeps what was sent."""

    conn: Connection[Any]
    sent: list[tuple[str, Any]] = field(default_factory=list)

    def execute(self, query: str, params: Any = None) -> Any:
        self.sent.append((query, params))
        return self.conn.execute(query, params)


def statement_of(
    conn: Connection[Any], read: Callable[[Connection[Any]], object]
) -> tuple[str, Any]:
    """The one statement `read` sends (its SQL and parameters)."""
    recorder = Recorder(conn)
    read(cast(Connection[Any], recorder))
    if len(recorder.sent) != 1:
        raise AssertionError(f"expected one statement, saw {len(recorder.sent)}")
    return recorder.sent[0]


@dataclass(frozen=True)
class Plan:
    text: str  # EXPLAIN (ANALYZE, BUFFERS), as psql shows it
    nodes: list[tuple[str, str | None]]  # (node type, index name) of every plan node

    @property
    def uses_keyset_index(self) -> bool:
        scans = any(t in INDEX_SCANS and i == KEYSET_INDEX for t, i in self.nodes)
        return scans and not any(t in SORTS for t, _ in self.nodes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uses_keyset_index": self.uses_keyset_index,
            "nodes": [f"{t} on {i}" if i else t for t, i in self.nodes],
            "text": self.text,
        }


def explain(conn: Connection[Any], query: str, params: Any) -> Plan:
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}", params).fetchall()
    text = "\n".join(r[0] for r in rows)
    found = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", params).fetchone()
    conn.rollback()
    tree = found[0][0]["Plan"] if found else {}
    return Plan(text, list(_nodes(tree)))


def explain_generic(conn: Connection[Any], query: str, params: Any) -> Plan:
    numbered = numbered_placeholders(query, params)
    rows = conn.execute(f"EXPLAIN (GENERIC_PLAN) {numbered}").fetchall()
    found = conn.execute(f"EXPLAIN (GENERIC_PLAN, FORMAT JSON) {numbered}").fetchone()
    conn.rollback()
    tree = found[0][0]["Plan"] if found else {}
    return Plan("\n".join(r[0] for r in rows), list(_nodes(tree)))


def numbered_placeholders(query: str, params: Any) -> str:
    """The query with PostgreSQL's $1, $2 ... where psycopg's placeholders are: named ones
    (`%(name)s`, one number per name) or positional ones (`%s`)."""
    if isinstance(params, dict):
        numbers: dict[str, int] = {}

        def named(found: re.Match[str]) -> str:
            return f"${numbers.setdefault(found.group(1), len(numbers) + 1)}"

        converted = re.sub(r"%\((\w+)\)s", named, query)
    else:
        count = iter(range(1, len(params or ()) + 1))
        converted = re.sub(r"%s", lambda _: f"${next(count)}", query)
    return converted.replace("%%", "%")


def _nodes(node: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    yield node["Node Type"], node.get("Index Name")
    for child in node.get("Plans", []):
        yield from _nodes(child)
