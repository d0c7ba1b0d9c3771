"""WooCommerce webhooks: the topics we register, signature check, the creation ping, dedupe keys, parsing."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from integrations.stores.base import WebhookChange
# Re-exported: the web handler and tests check signatures through this module.
from integrations.stores.signatures import decode_signature, sign, signature_matches  # noqa: F401
from integrations.stores.woocommerce.client import WooClient
from integrations.stores.woocommerce.orders import parse_order

log = logging.getLogger(__name__)

TOPICS: tuple[str, ...] = ("order.created", "order.updated", "order.deleted")
UPSERT_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
HEADER_SOURCE = "X-WC-Webhook-Source"  # the site's home URL, e.g. "https://shop.example.com/"
HEADER_TOPIC = "X-WC-Webhook-Topic"
HEADER_SIGNATURE = "X-WC-Webhook-Signature"
HEADER_WEBHOOK_ID = "X-WC-Webhook-ID"
HEADER_DELIVERY_ID = "X-WC-Webhook-Delivery-ID"  # not unique across deliveries: never a dedupe key
_PING = re.compile(rb"^webhook_id=\d+$")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
    """The unsigned request WooCommerce sends when a webhook is saved: form body `webhook_id=<id>`."""
    return bool(_PING.match(body.strip())) and not headers.get(HEADER_SIGNATURE)


def dedupe_key(body: bytes, *, topic: str, data: Any = None) -> str:
    """(order id, date_modified, body hash): the same order version delivered twice is stored once.

    `data` is `body` already parsed as JSON, when the caller has it, so the body is not parsed twice.
    """
    digest = hashlib.sha256(body).hexdigest()[:32]
    if data is None:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    if isinstance(data, Mapping):
        return f"{data.get('id')}:{data.get('date_modified_gmt') or data.get('date_modified') or topic}:{digest}"
    return f"-:{topic}:{digest}"


def parse_webhook(*, topic: str, body: bytes, site_url: str = "") -> WebhookChange:
    """A stored delivery -> change. `order.deleted` carries only `{"id": ...}`."""
    if topic.split(".")[0] != "order":
        return WebhookChange(kind=WebhookChange.KIND_IGNORED)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{topic}: body is not JSON") from exc
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        raise ValueError(f"{topic}: body has no order id")
    if topic == "order.deleted":
        return WebhookChange(kind=WebhookChange.KIND_ORDER_DELETED, order_external_id=str(data["id"]))
    if topic in UPSERT_TOPICS:
        order = parse_order(data, site_url=site_url)
        return WebhookChange(kind=WebhookChange.KIND_ORDER_UPSERT, order=order, order_external_id=order.external_id)
    return WebhookChange(kind=WebhookChange.KIND_IGNORED)


@dataclass(frozen=True)
class WebhookReport:
    created: tuple[str, ...] = ()
    reenabled: tuple[str, ...] = ()
    healthy: tuple[str, ...] = ()
    paused: tuple[str, ...] = ()  # paused by the merchant on purpose: left alone


def list_webhooks(client: WooClient) -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = []
    for page in client.pages("webhooks", params={}):
        hooks.extend(h for h in page.items if isinstance(h, dict))
    return hooks


def ensure_webhooks(client: WooClient, *, delivery_url: str, secret: str, name_prefix: str = "Parcelwise",
                    reset_secret: bool = False) -> WebhookReport:
    """Make sure one webhook per topic points at `delivery_url`: create missing ones, re-enable disabled ones
    (WooCommerce disables a webhook after repeated failed deliveries). `reset_secret` rewrites the secret of
    existing ones (on reconnect, when the stored secret is new)."""
    ours: dict[str, dict[str, Any]] = {}
    for hook in list_webhooks(client):
        if str(hook.get("delivery_url", "")).rstrip("/") == delivery_url.rstrip("/") and hook.get("topic") in TOPICS:
            ours.setdefault(str(hook["topic"]), hook)
    created, reenabled, healthy, paused = [], [], [], []
    for topic in TOPICS:
        hook = ours.get(topic)
        if hook is None:
            client.post_json("webhooks", {"name": f"{name_prefix} {topic}", "topic": topic, "status": "active",
                                          "delivery_url": delivery_url, "secret": secret})
            created.append(topic)
            continue
        update: dict[str, Any] = {"secret": secret} if reset_secret else {}
        status = hook.get("status")
        if status == "disabled" or (reset_secret and status != "active"):
            update["status"] = "active"
            reenabled.append(topic)
        elif status == "paused":
            paused.append(topic)
        else:
            healthy.append(topic)
        if update:
            client.put_json(f"webhooks/{hook['id']}", update)
    if created or reenabled:
        log.info("WooCommerce %s: webhooks created %s, re-enabled %s", client.url, created, reenabled)
    return WebhookReport(tuple(created), tuple(reenabled), tuple(healthy), tuple(paused))
