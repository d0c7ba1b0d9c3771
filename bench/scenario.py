"""Parcels for process-level runs: a store with FedEx credentials and a Klaviyo key, parcels due now, and checks
that every event reached the fake Klaviyo exactly once with no row left behind."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from app.models import EspConnection, InboxItem, OutboxItem, Shipment
from app.models.inbox import InboxState
from app.models.outbox import OutboxState
from bench.poller import _shipments, _store, fedex_in_transit
from tests.fakes.klaviyo import PRIVATE_KEY


def seed_parcels(app: Any, *, count: int, first: int = 0, fake_fedex: Any = None, latency: float = 0.0) -> list[str]:
    """`count` FedEx parcels due now; the fake answers "in transit", so each one fires one event."""
    runtime = app.extensions["runtime"]
    numbers = [f"7{n:011d}" for n in range(first, first + count)]
    if fake_fedex is not None:
        fake_fedex.tracked.update({n: fedex_in_transit(n) for n in numbers})
        if latency:
            fake_fedex.slow.update({n: latency for n in numbers})
    with runtime.db.session() as session:
        store = _store(session, runtime, "fedex")
        store.domain = f"bench-{first}.example"
        session.add(EspConnection(store_id=store.id, provider="klaviyo", account_name="bench",
                                  credentials_encrypted=runtime.vault.encrypt({"api_key": PRIVATE_KEY})))
        _shipments(session, store, numbers=numbers, code="fedex", due=datetime.now(timezone.utc) - timedelta(seconds=1))
    return numbers


def esp_keys(app: Any) -> set[str]:
    """The outbox keys meant for the ESP (the unique_id Klaviyo sees)."""
    with app.extensions["runtime"].db.session() as session:
        return set(session.scalars(select(OutboxItem.key).where(OutboxItem.destination == "esp",
                                                                OutboxItem.state != OutboxState.SKIPPED)))


def leftovers(app: Any) -> dict[str, int]:
    """Rows that are not finished: pending outbox and inbox rows, parcels never polled."""
    with app.extensions["runtime"].db.session() as session:
        return {
            "outbox_pending": session.scalar(select(func.count()).select_from(OutboxItem)
                                             .where(OutboxItem.state == OutboxState.PENDING)) or 0,
            "outbox_failed": session.scalar(select(func.count()).select_from(OutboxItem)
                                            .where(OutboxItem.state == OutboxState.FAILED)) or 0,
            "inbox_pending": session.scalar(select(func.count()).select_from(InboxItem)
                                            .where(InboxItem.state == InboxState.PENDING)) or 0,
            "never_polled": session.scalar(select(func.count()).select_from(Shipment).where(
                Shipment.carrier_code == "fedex", Shipment.last_polled_at.is_(None))) or 0,
        }


def all_delivered(app: Any, fake_klaviyo: Any, *, expected: int) -> bool:
    keys = esp_keys(app)
    return len(keys) >= expected and keys <= set(fake_klaviyo.events) and leftovers(app)["outbox_pending"] == 0


SHOP = "bench-shop.myshopify.com"
SHOPIFY_SECRET = "shpss_bench_0123456789abcdef0123456789abcdef"


def shopify_store(app: Any, *, domain: str = SHOP) -> int:
    """A Shopify store (no token needed: order webhooks carry everything) with the Klaviyo key."""
    from app.models import Store

    runtime = app.extensions["runtime"]
    with runtime.db.session() as session:
        store = Store(platform="shopify", domain=domain, name="Bench shop", settings={})
        session.add(store)
        session.flush()
        session.add(EspConnection(store_id=store.id, provider="klaviyo", account_name="bench",
                                  credentials_encrypted=runtime.vault.encrypt({"api_key": PRIVATE_KEY})))
        return store.id


def order_body(i: int, *, updated_at: datetime, shipped_at: datetime | None) -> bytes:
    """A Shopify orders/* body; with `shipped_at`, one fulfillment with a DHL tracking number (so one Order Shipped)."""
    import json

    from bench.webhook_ingest import _body

    data = json.loads(_body(i))
    data["updated_at"] = updated_at.isoformat()
    data["created_at"] = (updated_at - timedelta(hours=1)).isoformat()
    if shipped_at is None:
        data["fulfillments"] = []
    else:
        data["fulfillments"][0]["created_at"] = data["fulfillments"][0]["updated_at"] = shipped_at.isoformat()
    return json.dumps(data).encode()


def shopify_headers(body: bytes, *, topic: str, event_id: str, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    from tests.fakes.shopify import sign_webhook

    return {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Event-Id": event_id, "X-Shopify-Webhook-Id": event_id, "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Hmac-Sha256": sign_webhook(body, secret)}


def post_until_accepted(port: int, *, body: bytes, headers: dict[str, str], deadline: float) -> int:
    """POST like Shopify does: anything but 200 (or no answer) is retried. Returns the number of attempts."""
    import http.client
    import time

    attempts = 0
    while time.time() < deadline:
        attempts += 1
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            conn.request("POST", "/webhooks/shopify", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return attempts
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("a webhook was never accepted")
