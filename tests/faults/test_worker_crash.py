"""kill -9 of a worker mid-batch: another worker finishes the work once the leases run out; nothing lost or doubled."""
from __future__ import annotations

from collections import Counter

import pytest

from bench.common import kill9, process_env, schema_app, start_worker, stop, wait_until
from bench.scenario import all_delivered, esp_keys, leftovers, seed_parcels

PARCELS = 240
WORKER = {"LEASE_SECONDS": 3, "BATCH_SIZE": 30, "TICK_INBOX_SECONDS": 0.3, "TICK_POLL_SECONDS": 0.3,
          "TICK_OUTBOX_SECONDS": 0.3, "POLL_CONCURRENCY": 2}


@pytest.mark.timeout(90)
def test_kill_9_mid_batch_loses_and_duplicates_nothing(target, fake_klaviyo, fake_fedex, tmp_path):
    app = schema_app(target)
    try:
        seed_parcels(app, count=PARCELS, fake_fedex=fake_fedex, latency=0.25)  # slow carrier: the kill lands mid-poll
        fake_klaviyo.latency = 0.2
        env = process_env(target, FEDEX_API_URL=fake_fedex.base_url, KLAVIYO_API_URL=fake_klaviyo.base_url, **WORKER)
        first = start_worker(env, log_path=tmp_path / "worker1.log")
        try:
            wait_until(lambda: len(fake_klaviyo.events) >= 30, timeout=40, what="the first events")
        finally:
            kill9(first)
        sent_before = len(fake_klaviyo.events)
        assert sent_before < PARCELS, "the crash must land mid-work"

        second = start_worker(env, log_path=tmp_path / "worker2.log")
        try:
            wait_until(lambda: all_delivered(app, fake_klaviyo, expected=PARCELS), timeout=50,
                       what="every event at the fake Klaviyo")
        finally:
            stop(second)

        keys = esp_keys(app)
        assert len(keys) == PARCELS  # one "Shipment In Transit" per parcel, written once
        assert set(fake_klaviyo.events) == keys  # zero lost, nothing extra
        # A batch in flight at the kill may be sent again after its lease; Klaviyo keeps one event per unique_id.
        resent = [k for k, n in fake_klaviyo.deliveries.items() if n > 1]
        assert max(fake_klaviyo.deliveries.values()) <= 2 and len(resent) <= int(WORKER["BATCH_SIZE"]) * 5
        assert Counter(e["metric"] for e in fake_klaviyo.events.values()) == {"Shipment In Transit": PARCELS}
        assert leftovers(app) == {"outbox_pending": 0, "outbox_failed": 0, "inbox_pending": 0, "never_polled": 0}
    finally:
        app.extensions["runtime"].db.dispose()
