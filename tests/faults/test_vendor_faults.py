"""Carriers and the ESP misbehave all at once through the real ticks: every parcel's event arrives exactly once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.jobs import outbox_tick, poll_tick
from app.models import Shipment
from bench.scenario import esp_keys, leftovers, seed_parcels
from tests.fakes.http import Response

PARCELS = 45
TRACK = "/track/v1/trackingnumbers"


@pytest.fixture
def app_config(app_config, fake_fedex, fake_klaviyo):
    return {**app_config, "FEDEX_API_URL": fake_fedex.base_url, "KLAVIYO_API_URL": fake_klaviyo.base_url,
            "KLAVIYO_RATE_LIMIT": False, "KLAVIYO_TIMEOUT_SECONDS": 0.5, "CARRIER_READ_TIMEOUT_SECONDS": 0.5,
            "BATCH_SIZE": 60}


@pytest.mark.timeout(90)
def test_carrier_and_esp_faults_lose_and_duplicate_nothing(app, runtime, clock, fake_fedex, fake_klaviyo):
    clock.now = datetime.now(timezone.utc)
    seed_parcels(app, count=PARCELS, fake_fedex=fake_fedex)
    # The carrier: an HTML error page from its load balancer, an empty 200, a read timeout, then its daily quota.
    for fault in (Response.html(status=503), Response(status=200, body=b""), Response(status=502, body=b""),
                  Response.json({"ok": True}, delay=1.5), Response.html(status=200, title="Maintenance")):
        fake_fedex.fail_next(fault, times=3, path=TRACK)
    fake_fedex.quota = 4  # the next calls get 429 with Retry-After 3600
    # The ESP: a storm of 429s, 500s, an answer too late for our timeout, and an accepted batch whose answer is lost.
    fake_klaviyo.inject("429", times=6, retry_after="30")
    fake_klaviyo.inject("500", times=3)
    fake_klaviyo.inject("slow", delay=1.2)
    fake_klaviyo.inject("drop")

    for round_ in range(60):
        poll_tick(runtime)
        outbox_tick(runtime)
        if round_ == 20:
            fake_fedex.quota = None  # the carrier's quota resets at midnight
        if len(fake_klaviyo.events) == PARCELS and leftovers(app)["outbox_pending"] == 0:
            break
        clock.advance(hours=1)  # past every backoff, Retry-After and lease

    keys = esp_keys(app)
    assert len(keys) == PARCELS and set(fake_klaviyo.events) == keys  # zero lost, nothing extra
    assert {e["metric"] for e in fake_klaviyo.events.values()} == {"Shipment In Transit"}
    # Two batches were accepted without an answer reaching us (too slow, dropped): sent again, kept once by unique_id.
    assert max(fake_klaviyo.deliveries.values()) <= 3
    assert leftovers(app) == {"outbox_pending": 0, "outbox_failed": 0, "inbox_pending": 0, "never_polled": 0}
    with runtime.db.session() as session:
        assert set(session.scalars(select(Shipment.status))) == {"in_transit"}
        assert all(s.next_poll_at is not None and s.next_poll_at > clock.now for s in session.scalars(select(Shipment)))
