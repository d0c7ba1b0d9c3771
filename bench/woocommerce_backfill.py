"""Benchmark: WooCommerce backfill rate (orders/s) against the loopback fake, on PostgreSQL in a schema of its own.

    .venv/bin/python -m bench.woocommerce_backfill [--orders 2000] [--tracked 0.5]

Connects a store with manual keys (webhooks created on the fake), then times one backfill run: REST pages of 100
(OAuth-signed over loopback HTTP), mapping, and `sync_order` with a commit per page. A share of the orders carry
a Shipment Tracking item, so shipments and their `Order Shipped` rows are written too.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from app.jobs import woocommerce_sync_tick
from app.models import Account, Order, Shipment
from app.services.woocommerce_connect import connect_store, site_from_input
from bench.common import bench_app
from tests.fakes.woocommerce import FakeWooCommerce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--tracked", type=float, default=0.5, help="share of orders with a tracking number")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    with FakeWooCommerce(now=lambda: now) as fake, bench_app(WOOCOMMERCE_ALLOW_HTTP=True) as app:
        start = now - timedelta(days=20)
        every = max(1, round(1 / args.tracked)) if args.tracked else 0
        for i in range(args.orders):
            order = fake.add_order(created=start + timedelta(minutes=i))
            if every and i % every == 0:
                fake.add_tracking(order["id"], number=f"00340434{i:012d}", provider="dhl-de",
                                  shipped=start + timedelta(minutes=i, hours=20))
        runtime = app.extensions["runtime"]
        runtime.clock = lambda: now
        key, secret = fake.issue_key()
        with runtime.db.session() as session:
            account = Account(email="bench@example.com", password_hash="-")
            session.add(account)
            session.flush()
            connect_store(session, runtime, account_id=account.id, site=site_from_input(runtime, fake.base_url),
                          consumer_key=key, consumer_secret=secret, now=now)
        began = time.perf_counter()
        counts = woocommerce_sync_tick(runtime)
        elapsed = time.perf_counter() - began
        with runtime.db.session() as session:
            orders = session.scalar(select(func.count()).select_from(Order))
            shipments = session.scalar(select(func.count()).select_from(Shipment))
    assert counts["orders"] == orders == args.orders, (counts, orders)
    print(f"backfill: {orders} orders ({shipments} shipments) in {elapsed:.2f} s = {orders / elapsed:.0f} orders/s")


if __name__ == "__main__":
    main()
