"""Braintree's XML dialect, written independently of the SDK's own parser and generator (so
a mistake in one is not mirrored by the other).

Requests arrive with underscored tags (the SDK's generator); answers go out the way the
gateway writes them: dasherized tags, `type="integer|boolean|datetime|array|collection"`
and `nil="true"` for empty values.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


class Collection(list[Any]):
    """Items written as repeated children of a `type="collection"` element."""


class Symbol(str):
    """A value written with `type="symbol"` (error attributes)."""

    __slots__ = ()


def parse_request(body: bytes) -> dict[str, Any]:
    """The request document as {root tag: value}; empty bodies are empty dicts."""
    if not body.strip():
        return {}
    root = ET.fromstring(body)  # noqa: S314 - the SDK under test is the only client
    return {_key(root.tag): _value(root)}


def _key(tag: str) -> str:
    return tag.replace("-", "_")


def _value(element: ET.Element) -> Any:
    kind = element.get("type")
    children = list(element)
    if kind == "array":
        return [_value(child) for child in children]
    if children:
        result: dict[str, Any] = {}
        for child in children:
            result[_key(child.tag)] = _value(child)
        return result
    text = element.text or ""
    if element.get("nil") == "true":
        return None
    if kind == "integer":
        return int(text)
    if kind == "boolean":
        return text in ("true", "1")
    return text


def document(root: str, value: Any) -> bytes:
    return (XML_DECLARATION + node(root, value)).encode()


def node(tag: str, value: Any) -> str:
    tag = tag.replace("_", "-")
    if value is None:
        return f'<{tag} nil="true"/>'
    if isinstance(value, bool):
        return f'<{tag} type="boolean">{str(value).lower()}</{tag}>'
    if isinstance(value, int):
        return f'<{tag} type="integer">{value}</{tag}>'
    if isinstance(value, datetime):
        return f'<{tag} type="datetime">{value.strftime("%Y-%m-%dT%H:%M:%SZ")}</{tag}>'
    if isinstance(value, Decimal):
        return f"<{tag}>{value}</{tag}>"
    if isinstance(value, Symbol):
        return f'<{tag} type="symbol">{escape(value)}</{tag}>'
    if isinstance(value, str):
        return f"<{tag}>{escape(value)}</{tag}>"
    if isinstance(value, Collection):
        return f'<{tag} type="collection">{"".join(_items(value))}</{tag}>'
    if isinstance(value, Mapping):
        inner = "".join(node(key, item) for key, item in value.items())
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(value, Sequence):
        if not value:
            return f'<{tag} type="array"/>'
        return f'<{tag} type="array">{"".join(_items(value))}</{tag}>'
    raise TypeError(f"cannot write {type(value).__name__} as Braintree XML")


def _items(values: Sequence[Any]) -> list[str]:
    """Array and collection items are (name, value) pairs or plain values (`item`)."""
    return [
        node(item[0], item[1]) if isinstance(item, tuple) else node("item", item) for item in values
    ]
