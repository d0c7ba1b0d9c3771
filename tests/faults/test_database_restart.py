"""The database restarts under load (a private PostgreSQL cluster): web and worker recover by themselves."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from bench.common import free_port, migrated_schema, process_env, schema_app, start_web, start_worker, stop, wait_until
from bench.scenario import (SHOPIFY_SECRET, all_delivered, esp_keys, leftovers, order_body, post_until_accepted,
                            seed_parcels, shopify_headers, shopify_store)

PARCELS, WEBHOOKS = 150, 120


@pytest.fixture
def private_cluster() -> Iterator[dict]:
    """A throwaway cluster of our own (the shared one on 5432 is never touched), always dropped at the end."""
    if os.geteuid() != 0 or not shutil.which("pg_createcluster") or not Path("/etc/postgresql").is_dir():
        pytest.skip("needs root and Debian's pg_createcluster")
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: float(v))[-1]
    name, port = f"faults{uuid.uuid4().hex[:6]}", free_port()
    created = subprocess.run(["pg_createcluster", version, name, "--port", str(port), "--start", "--",
                              "--auth-host=trust", "--auth-local=trust"], capture_output=True, text=True, timeout=60)
    try:
        if created.returncode != 0:
            pytest.skip(f"pg_createcluster failed: {created.stderr.strip()[-200:]}")

        def restart() -> None:
            subprocess.run(["pg_ctlcluster", version, name, "restart", "-m", "fast"], check=True, capture_output=True,
                           timeout=60)
        yield {"url": f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", "restart": restart}
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=60)


@pytest.mark.timeout(120)
def test_database_restart_under_load(private_cluster, fake_klaviyo, fake_fedex, tmp_path):
    with migrated_schema(private_cluster["url"], prefix="faults") as target:
        app = schema_app(target)
        web = worker = None
        try:
            seed_parcels(app, count=PARCELS, fake_fedex=fake_fedex, latency=0.1)
            shopify_store(app)
            fake_klaviyo.latency = 0.05
            env = process_env(target, FEDEX_API_URL=fake_fedex.base_url, KLAVIYO_API_URL=fake_klaviyo.base_url,
                              SHOPIFY_API_SECRET=SHOPIFY_SECRET, SHOPIFY_API_KEY="bench", LEASE_SECONDS=3,
                              BATCH_SIZE=20, TICK_INBOX_SECONDS=0.3, TICK_POLL_SECONDS=0.3, TICK_OUTBOX_SECONDS=0.3)
            port = free_port()
            web = start_web(env, port=port, workers=1, threads=4)
            worker = start_worker(env, log_path=tmp_path / "worker.log")

            now = datetime.now(timezone.utc)
            accepted: list[int] = []

            def shopify() -> None:  # webhooks keep coming through the restart, retried like Shopify retries them
                for i in range(WEBHOOKS):
                    body = order_body(i, updated_at=now, shipped_at=now - timedelta(minutes=5))
                    accepted.append(post_until_accepted(port, body=body, deadline=time.time() + 60,
                                                        headers=shopify_headers(body, topic="orders/create",
                                                                                event_id=f"evt-{i}")))
                    time.sleep(0.02)

            sender = threading.Thread(target=shopify, daemon=True)
            sender.start()
            wait_until(lambda: len(fake_klaviyo.events) >= 20 and len(accepted) >= 20, timeout=40, what="load")
            private_cluster["restart"]()
            sender.join(timeout=70)
            assert len(accepted) == WEBHOOKS
            wait_until(lambda: all_delivered(app, fake_klaviyo, expected=PARCELS + WEBHOOKS), timeout=50,
                       what="every event after the restart")
            assert worker.poll() is None and web.poll() is None  # nobody had to restart them

            keys = esp_keys(app)
            assert len(keys) == PARCELS + WEBHOOKS and set(fake_klaviyo.events) == keys
            assert max(fake_klaviyo.deliveries.values()) <= 2  # a batch cut off mid-commit is resent, then deduplicated
            left = leftovers(app)
            assert left["outbox_pending"] == left["outbox_failed"] == left["inbox_pending"] == left["never_polled"] == 0
        finally:
            for proc in (worker, web):
                if proc is not None:
                    stop(proc)
            app.extensions["runtime"].db.dispose()
