"""Benchmark: events per second from a full outbox to a fake Klaviyo (5 ms latency, rate limits off) on PostgreSQL.

    .venv/bin/python bench/esp_delivery.py [--events 20000] [--latency 0.005]

Uses BENCH_DATABASE_URL (default postgresql://127.0.0.1:5432/test) in a schema of its own, dropped at the end.
The fake runs in a separate process, so the delivery step (one worker) has its process to itself.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from app import create_app  # noqa: E402
from app.cli import upgrade_database  # noqa: E402
from app.models import EspConnection, OutboxItem, Store  # noqa: E402
from app.services.delivery import deliver_due  # noqa: E402
from tests.fakes.klaviyo import PRIVATE_KEY, FakeKlaviyo  # noqa: E402


def _serve_fake(latency: float, port_queue: multiprocessing.Queue, stop: multiprocessing.Event,
                result: multiprocessing.Queue) -> None:
    with FakeKlaviyo(latency=latency) as fake:
        port_queue.put(fake.base_url)
        stop.wait()
        result.put((len(fake.events), sum(fake.deliveries.values())))


def _fill(runtime, store_id: int, n: int, now: datetime) -> None:
    payload = {"metric": "Order Shipped", "profile": {"email": "bench@example.com", "external_id": "bench:1:1",
                                                      "first_name": "Bench", "last_name": "Mark", "locale": "en-US"},
               "properties": {"order_number": "#1001", "order_total": 59.9, "currency": "EUR", "carrier": "dhl",
                              "tracking_number": "00340434161094042557", "status": "label_created",
                              "tracking_page_url": "https://app.example.com/t/abc",
                              "line_items": [{"title": "Beanie", "sku": "B-1", "quantity": 1, "price": 29.9,
                                              "image_url": "https://cdn.example.com/b.jpg"}]}}
    rows = [{"key": f"{store_id}:{i}:Order Shipped", "store_id": store_id, "trigger": "Order Shipped",
             "destination": "esp", "occurred_at": now, "backfill": False, "payload": payload, "state": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for i in range(n)]
    with runtime.db.engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(OutboxItem), rows[start:start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--latency", type=float, default=0.005)
    parser.add_argument("--batch", type=int, default=500, help="rows claimed per pass (the outbox default)")
    figures = run(parser.parse_args())
    print(f"{figures['sent']} events in {figures['seconds']:.2f} s: {figures['rate']:,.0f} events/s "
          f"(fake recorded {figures['recorded']}, accepted {figures['accepted']})")


def run(args: argparse.Namespace) -> dict[str, float]:

    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://127.0.0.1:5432/test").replace(
        "postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    port_queue, result, stop = multiprocessing.Queue(), multiprocessing.Queue(), multiprocessing.Event()
    fake = multiprocessing.Process(target=_serve_fake, args=(args.latency, port_queue, stop, result), daemon=True)
    fake.start()
    try:
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        with create_engine(url, **options).begin() as conn:
            upgrade_database(url, conn)
        app = create_app({"DATABASE_URL": url, "ENGINE_OPTIONS": options, "SECRET_KEY": "bench",
                          "ENCRYPTION_KEY": Fernet.generate_key().decode(), "KLAVIYO_API_URL": port_queue.get(timeout=10),
                          "KLAVIYO_RATE_LIMIT": False, "LOG_LEVEL": "WARNING"})
        runtime = app.extensions["runtime"]
        now = datetime.now(timezone.utc)
        with runtime.db.session() as session:
            store = Store(platform="sandbox", domain="bench.sandbox", name="Bench", settings={})
            session.add(store)
            session.flush()
            session.add(EspConnection(store_id=store.id, provider="klaviyo", account_name="bench",
                                      credentials_encrypted=runtime.vault.encrypt({"api_key": PRIVATE_KEY})))
            store_id = store.id
        _fill(runtime, store_id, args.events, now)

        started = time.perf_counter()
        sent = 0
        while True:
            with runtime.db.session() as session:
                counts = deliver_due(session, esp_for=runtime.esp, now=datetime.now(timezone.utc), limit=args.batch)
            sent += counts["sent"]
            if not any(counts.values()):
                break
        elapsed = time.perf_counter() - started
        stop.set()
        recorded, deliveries = result.get(timeout=10)
        runtime.db.dispose()
        return {"sent": sent, "seconds": elapsed, "rate": sent / elapsed, "recorded": recorded, "accepted": deliveries}
    finally:
        stop.set()
        fake.join(timeout=10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
