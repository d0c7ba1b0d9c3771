"""Webhooks arrive duplicated, out of order, hours late, and in a burst while no worker runs: each order ships once."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bench.common import process_env, schema_app, start_worker, stop, wait_until
from bench.scenario import (SHOPIFY_SECRET, all_delivered, esp_keys, leftovers, order_body, shopify_headers,
                            shopify_store)

SHIPPED, OUT_OF_ORDER, LATE, VERY_LATE = 60, 20, 10, 10


@pytest.mark.timeout(60)
def test_burst_while_the_worker_is_down(target, fake_klaviyo, tmp_path):
    app = schema_app(target, SHOPIFY_API_SECRET=SHOPIFY_SECRET, SHOPIFY_API_KEY="bench")
    client = app.test_client()
    now = datetime.now(timezone.utc)

    def deliver(i: int, *, topic: str, updated: datetime, shipped: datetime | None, event_id: str | None = None) -> None:
        body = order_body(i, updated_at=updated, shipped_at=shipped)
        headers = shopify_headers(body, topic=topic, event_id=event_id or str(uuid.uuid4()))
        assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 200

    try:
        shopify_store(app)
        for i in range(SHIPPED):  # the same delivery three times, then re-sent under a new id
            for _ in range(3):
                deliver(i, topic="orders/create", updated=now, shipped=now - timedelta(minutes=5), event_id=f"e{i}")
            deliver(i, topic="orders/create", updated=now, shipped=now - timedelta(minutes=5))
        for i in range(100, 100 + OUT_OF_ORDER):  # the update with the parcel overtakes the creation
            deliver(i, topic="orders/updated", updated=now, shipped=now - timedelta(minutes=2))
            deliver(i, topic="orders/create", updated=now - timedelta(hours=1), shipped=None)
        for i in range(200, 200 + LATE):  # shipped hours ago, still news
            deliver(i, topic="orders/create", updated=now - timedelta(hours=6), shipped=now - timedelta(hours=6))
        for i in range(300, 300 + VERY_LATE):  # older than the backfill window: recorded, not announced
            deliver(i, topic="orders/create", updated=now - timedelta(days=3), shipped=now - timedelta(days=3))
        assert fake_klaviyo.event_requests() == []  # nobody is processing yet: everything waits in the inbox

        env = process_env(target, KLAVIYO_API_URL=fake_klaviyo.base_url, TICK_INBOX_SECONDS=0.3,
                          TICK_OUTBOX_SECONDS=0.3, TICK_POLL_SECONDS=0.3)
        worker = start_worker(env, log_path=tmp_path / "worker.log")
        total = SHIPPED + OUT_OF_ORDER + LATE + VERY_LATE
        try:
            wait_until(lambda: all_delivered(app, fake_klaviyo, expected=total), timeout=40, what="every order shipped")
        finally:
            stop(worker)

        keys = esp_keys(app)
        assert len(keys) == total and set(fake_klaviyo.events) == keys
        assert set(fake_klaviyo.deliveries.values()) == {1}  # no crash here, so not even a deduplicated resend
        assert {e["metric"] for e in fake_klaviyo.events.values()} == {"Order Shipped"}
        backfilled = [e for e in fake_klaviyo.events.values() if e["backfill"]]
        assert len(backfilled) == VERY_LATE
        left = leftovers(app)
        assert left["inbox_pending"] == left["outbox_pending"] == left["outbox_failed"] == 0
    finally:
        app.extensions["runtime"].db.dispose()
