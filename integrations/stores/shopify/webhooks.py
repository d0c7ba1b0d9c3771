"""Shopify webhooks: signature check, the topics we subscribe to, and turning a delivery into a WebhookChange."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from integrations.stores.base import WebhookChange
from integrations.stores.shopify.returns import RETURN_TOPICS, parse_return_webhook
from integrations.stores.shopify.rest import fulfillment_parcels, parse_order
from integrations.stores.shopify.values import blank_to_none, legacy_id
from integrations.stores.signatures import matches_any

logger = logging.getLogger(__name__)

# Topics registered per shop (GraphQL webhookSubscriptionCreate) or declared in shopify.app.toml.
SUBSCRIBED_TOPICS: tuple[str, ...] = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "fulfillments/create",
    "fulfillments/update",
    "app/uninstalled",
) + RETURN_TOPICS
# Mandatory privacy topics: Shopify only takes these from shopify.app.toml (`compliance_topics`) or the
# Partner Dashboard, never from the API.
COMPLIANCE_TOPICS: tuple[str, ...] = ("customers/data_request", "customers/redact", "shop/redact")
ALL_TOPICS: tuple[str, ...] = SUBSCRIBED_TOPICS + COMPLIANCE_TOPICS

HEADER_TOPIC = "X-Shopify-Topic"
HEADER_HMAC = "X-Shopify-Hmac-Sha256"
HEADER_SHOP = "X-Shopify-Shop-Domain"
HEADER_EVENT_ID = "X-Shopify-Event-Id"  # the same for every retry of one event: the dedup key
HEADER_WEBHOOK_ID = "X-Shopify-Webhook-Id"
HEADER_TRIGGERED_AT = "X-Shopify-Triggered-At"
HEADER_API_VERSION = "X-Shopify-API-Version"


def verify_webhook_hmac(*, body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """True when `header` is the base64 HMAC-SHA256 of the raw `body` under any of `secrets`.

    Pass the current app secret first and the previous one during a secret rotation.
    """
    return matches_any(body=body, header=header, secrets=secrets)


@dataclass(frozen=True)
class WebhookDelivery:
    """The headers of one delivery that the inbox needs (case-insensitive lookup done here)."""

    topic: str | None
    shop_domain: str | None
    event_id: str | None
    webhook_id: str | None
    hmac: str | None
    triggered_at: str | None
    api_version: str | None


def read_delivery_headers(headers: Mapping[str, str]) -> WebhookDelivery:
    lowered = {k.lower(): v for k, v in headers.items()}

    def get(name: str) -> str | None:
        return blank_to_none(lowered.get(name.lower()))

    return WebhookDelivery(
        topic=get(HEADER_TOPIC),
        shop_domain=get(HEADER_SHOP),
        event_id=get(HEADER_EVENT_ID),
        webhook_id=get(HEADER_WEBHOOK_ID),
        hmac=get(HEADER_HMAC),
        triggered_at=get(HEADER_TRIGGERED_AT),
        api_version=get(HEADER_API_VERSION),
    )


def _load(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"webhook body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("webhook body must be a JSON object")
    return data


def _ids(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        raise ValueError("order id list must be a list")
    return tuple(legacy_id(v) for v in values)


def _customer(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    customer = data.get("customer")
    if not isinstance(customer, Mapping):
        raise ValueError("privacy request has no customer object")
    cid = customer.get("id")
    return (legacy_id(cid) if cid is not None else None), blank_to_none(customer.get("email"))


def _parse(topic: str, data: dict[str, Any]) -> WebhookChange:
    if topic in ("orders/create", "orders/updated", "orders/cancelled", "orders/paid", "orders/fulfilled",
                 "orders/partially_fulfilled", "orders/edited"):
        return WebhookChange(kind=WebhookChange.KIND_ORDER_UPSERT, order=parse_order(data))
    if topic == "orders/delete":
        return WebhookChange(kind=WebhookChange.KIND_ORDER_DELETED, order_external_id=legacy_id(data["id"]))
    if topic in ("fulfillments/create", "fulfillments/update"):
        # The body is a fulfillment, not the order: the app merges it into the order it knows (Shopify also
        # sends orders/updated with every fulfillment, which carries all parcels of multi-number ones).
        parcels = fulfillment_parcels(data)
        return WebhookChange(kind=WebhookChange.KIND_ORDER_UPSERT, order_external_id=legacy_id(data["order_id"]),
                             fulfillment=parcels[0])
    if topic == "app/uninstalled":
        return WebhookChange(kind=WebhookChange.KIND_UNINSTALLED)
    if topic == "customers/redact":
        customer_id, email = _customer(data)
        return WebhookChange(kind=WebhookChange.KIND_CUSTOMER_REDACT, customer_id=customer_id, customer_email=email,
                             order_external_ids=_ids(data.get("orders_to_redact")))
    if topic == "customers/data_request":
        customer_id, email = _customer(data)
        return WebhookChange(kind=WebhookChange.KIND_CUSTOMER_DATA_REQUEST, customer_id=customer_id,
                             customer_email=email, order_external_ids=_ids(data.get("orders_requested")))
    if topic == "shop/redact":
        if "shop_domain" not in data and "shop_id" not in data:
            raise ValueError("shop/redact body names no shop")
        return WebhookChange(kind=WebhookChange.KIND_SHOP_REDACT)
    if topic in RETURN_TOPICS:
        # returns/* bodies carry no tracking and reverse_deliveries/* no order: the app looks the Return up.
        change = parse_return_webhook(topic=topic, body=data, received_at=datetime.now(timezone.utc))
        return WebhookChange(kind=WebhookChange.KIND_RETURN, return_id=change.return_id,
                             order_external_id=change.order_external_id)
    logger.info("ignoring Shopify webhook topic %s", topic)
    return WebhookChange(kind=WebhookChange.KIND_IGNORED)


def parse_webhook(*, topic: str, body: bytes) -> WebhookChange:
    """Pure: a stored delivery -> what it asks us to do. ValueError for a malformed body or a wrong shape."""
    data = _load(body)
    try:
        return _parse(topic.strip().lower(), data)
    except ValueError:
        raise
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed Shopify {topic} webhook: {exc!r}") from exc
