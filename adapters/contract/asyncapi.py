"""The AsyncAPI 3.0 document of `billing.events`, generated from the same registry as the
schemas: the channel (the topic), the operation (the ledger sends), and one message per
event type and version, with its Kafka key and headers (adapters/kafka/codec.py) and its
payload by reference to `schemas/<event_type>.v<version>.json` (JSON Schema 2020-12)."""

from __future__ import annotations

from typing import Any

from adapters.contract.schemas import MessageVersion, message_versions
from adapters.kafka.codec import CONTENT_TYPE
from adapters.settings import Settings

CHANNEL = "billingEvents"
PAYLOAD_FORMAT = "application/schema+json;version=2020-12"
KAFKA_BINDING = "0.5.0"
DEFAULT_TOPIC: str = Settings.model_fields["topic"].default
_POSITIVE = {"type": "string", "pattern": "^[1-9][0-9]*$"}

DESCRIPTION = """Every event of every billing account, as the ledger recorded it, in order \
per account. Delivery is at least once: skip an `(account_id, stream_version)` already \
applied. The key is the account id (one account's events stay in one partition, in \
order); the headers repeat the event's type, schema version, id and global position so a \
consumer can filter without parsing the value. The value is the envelope `billing.event/1` \
with the event's `data`; validate it with `schemas/<event_type>.v<schema_version>.json`. A \
consumer must ignore fields and event types it does not know. Compatibility policy: \
docs/contract/COMPATIBILITY.md; meanings: docs/events.md."""


def asyncapi_document(topic: str = DEFAULT_TOPIC) -> dict[str, Any]:
    messages = message_versions()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Billing ledger events",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {CHANNEL: _channel(topic, messages)},
        "operations": {
            "publishBillingEvents": {
                "action": "send",
                "title": "Publish the ledger's events",
                "summary": "The relay publishes every recorded event, after it is committed.",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "messages": [{"$ref": f"#/channels/{CHANNEL}/messages/{m.key}"} for m in messages],
            }
        },
        "components": {"messages": {m.key: _message(m) for m in messages}},
    }


def _channel(topic: str, messages: list[MessageVersion]) -> dict[str, Any]:
    return {
        "address": topic,
        "title": "Billing events",
        "description": "The topic is a setting (`LEDGER_TOPIC`), `billing.events` by default.",
        "messages": {m.key: {"$ref": f"#/components/messages/{m.key}"} for m in messages},
        "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING}},
    }


def _message(message: MessageVersion) -> dict[str, Any]:
    status = "" if message.current else " (no longer published; may still be on the topic)"
    return {
        "name": message.name,
        "title": f"{message.name} v{message.version}",
        "summary": f"`{message.name}`, schema version {message.version}{status}.",
        "contentType": CONTENT_TYPE,
        "headers": _headers(message),
        "payload": {
            "schemaFormat": PAYLOAD_FORMAT,
            "schema": {"$ref": f"schemas/{message.key}.json"},
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The account id: an account's events keep their order.",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _headers(message: MessageVersion) -> dict[str, Any]:
    properties = {
        "content-type": {"const": CONTENT_TYPE},
        "event-type": {"const": message.name},
        "schema-version": {"const": str(message.version)},
        "event-id": {"type": "string", "format": "uuid"},
        "position": {**_POSITIVE, "description": "The event's global position in the store."},
    }
    return {"type": "object", "properties": properties, "required": list(properties)}
