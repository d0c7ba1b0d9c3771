"""Per-shop webhook subscriptions over Admin GraphQL: create, list, and reconcile against what we want."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from integrations.errors import PermanentError
from integrations.stores.shopify.graphql import ShopifyGraphQL
from integrations.stores.shopify.webhooks import COMPLIANCE_TOPICS

logger = logging.getLogger(__name__)

# Since 2025-10 one `uri` field takes HTTPS, Pub/Sub and EventBridge endpoints (callbackUrl is deprecated).
_CREATE_MUTATION = """
mutation ParcelWebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

_LIST_QUERY = """
query ParcelWebhooks($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}
"""


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    topic: str  # REST spelling, "orders/create"
    uri: str


def topic_enum(topic: str) -> str:
    """"orders/create" -> "ORDERS_CREATE" (the WebhookSubscriptionTopic enum)."""
    return topic.strip().upper().replace("/", "_")


def topic_name(enum_value: str) -> str:
    """"ORDERS_CREATE" -> "orders/create"; the resource part may itself contain "_" (e.g. APP_UNINSTALLED)."""
    lowered = enum_value.strip().lower()
    for known in _KNOWN_RESOURCES:
        if lowered.startswith(known + "_"):
            return f"{known}/{lowered[len(known) + 1:]}"
    resource, _, action = lowered.partition("_")
    return f"{resource}/{action}"


_KNOWN_RESOURCES = ("fulfillment_events", "fulfillment_orders", "order_transactions", "reverse_deliveries", "orders",
                    "fulfillments", "returns", "app", "customers", "shop")


def _subscription(node: Any) -> WebhookSubscription:
    if not isinstance(node, Mapping):
        raise PermanentError("webhook subscription answer is not an object", code="bad_response")
    return WebhookSubscription(id=str(node.get("id")), topic=topic_name(str(node.get("topic") or "")),
                               uri=str(node.get("uri") or ""))


def list_webhooks(client: ShopifyGraphQL, *, page_size: int = 100) -> list[WebhookSubscription]:
    """Subscriptions made through the API for this shop (those in shopify.app.toml are not listed here)."""
    found: list[WebhookSubscription] = []
    after: str | None = None
    while True:
        data = client.execute(_LIST_QUERY, {"first": page_size, "after": after})
        connection = data.get("webhookSubscriptions") or {}
        found.extend(_subscription(n) for n in connection.get("nodes") or [])
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return found
        after = info["endCursor"]


def create_webhook(client: ShopifyGraphQL, *, topic: str, callback_url: str) -> WebhookSubscription | None:
    """Create one subscription; None when Shopify says it already exists (idempotent on re-install)."""
    data = client.execute(_CREATE_MUTATION, {"topic": topic_enum(topic),
                                             "webhookSubscription": {"uri": callback_url, "format": "JSON"}})
    result = data.get("webhookSubscriptionCreate") or {}
    errors = [e for e in result.get("userErrors") or [] if isinstance(e, Mapping)]
    if errors:
        messages = "; ".join(str(e.get("message")) for e in errors)
        if "already been taken" in messages.lower():
            logger.info("Shopify %s: %s subscription already exists", client.shop, topic)
            return None
        raise PermanentError(f"Shopify {client.shop}: cannot subscribe to {topic}: {messages}", code="validation")
    return _subscription(result.get("webhookSubscription"))


def register_webhooks(client: ShopifyGraphQL, *, callback_url: str,
                      topics: Iterable[str]) -> list[WebhookSubscription]:
    """Subscribe to every topic missing for `callback_url`; returns the ones created.

    Also the reconcile step: call it periodically and it only creates what has gone missing. Compliance
    topics are skipped: Shopify takes them only from shopify.app.toml or the Partner Dashboard.
    """
    wanted = [t for t in dict.fromkeys(topics) if t not in COMPLIANCE_TOPICS]
    existing = {(s.topic, s.uri) for s in list_webhooks(client)}
    created = []
    for topic in wanted:
        if (topic, callback_url) in existing:
            continue
        subscription = create_webhook(client, topic=topic, callback_url=callback_url)
        if subscription is not None:
            created.append(subscription)
    if created:
        logger.info("Shopify %s: subscribed to %s", client.shop, ", ".join(s.topic for s in created))
    return created
