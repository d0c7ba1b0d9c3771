"""Poller benchmark: parcels/s per worker against a loopback carrier with 100 ms per call, and the cost of one tick
with 10k vs 1M shipments that are not due (it must not grow with the table).

    .venv/bin/python -m bench.poller [--parcels 3000] [--big 1000000]
"""
from __future__ import annotations

import argparse
import secrets
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert, text, update

from app.jobs import poll_tick
from app.models import CarrierAccount, Order, Shipment, Store
from bench.common import bench_app, median
from integrations.carriers.sandbox import make_tracking_number
from tests.fakes.carriers import FakeFedex

LATENCY = 0.1


def fedex_in_transit(number: str) -> dict:
    scan = {"date": "2026-11-23T08:52:00-07:00", "eventType": "IT", "eventDescription": "In transit",
            "scanLocation": {"city": "MEMPHIS", "stateOrProvinceCode": "TN", "countryCode": "US"}}
    return {"trackingNumberInfo": {"trackingNumber": number},
            "latestStatusDetail": {"code": "IT", "description": "In transit"}, "scanEvents": [scan]}


def _store(session, runtime, code: str) -> Store:
    store = Store(platform="sandbox", domain=f"bench-{code}.example", name="Bench", settings={})
    session.add(store)
    session.flush()
    if code != "sandbox":
        session.add(CarrierAccount(store_id=store.id, carrier_code=code, credentials_encrypted=runtime.vault.encrypt(
            {"client_id": "client-id", "client_secret": "client-secret"})))
    return store


def _shipments(session, store: Store, *, numbers: list[str], code: str, due: datetime) -> None:
    now = datetime.now(timezone.utc)
    orders = [{"store_id": store.id, "external_id": f"O{i}", "number": f"#{i}", "placed_at": now, "remote_updated_at": now,
               "email": f"c{i}@example.com", "currency": "EUR", "total": Decimal("10"), "line_items": [],
               "cancelled": False, "created_at": now} for i in range(len(numbers))]
    ids = session.scalars(insert(Order).returning(Order.id), orders).all()
    session.execute(insert(Shipment), [{
        "store_id": store.id, "order_id": order_id, "fulfillment_external_id": f"F{i}", "tracking_number": number,
        "carrier_code": code, "carrier_name": code, "is_return": False, "line_item_ids": [], "status": "label_created",
        "shipped_at": now - timedelta(hours=1), "next_poll_at": due, "poll_failures": 0, "delay_episode": 0,
        "delay_open": False, "tracking_token": secrets.token_urlsafe(16), "created_at": now, "updated_at": now,
    } for i, (order_id, number) in enumerate(zip(ids, numbers))])


def throughput(parcels: int) -> dict[str, float]:
    with FakeFedex() as fake, bench_app(FEDEX_API_URL=fake.base_url, BATCH_SIZE=600, POLL_CONCURRENCY=20) as app:
        runtime = app.extensions["runtime"]
        runtime.gate_factory = None  # limits off: measure the app, not the carrier's quota
        numbers = [f"7{n:011d}" for n in range(parcels)]
        fake.tracked = {n: fedex_in_transit(n) for n in numbers}
        fake.slow = {n: LATENCY for n in numbers}
        with runtime.db.session() as session:
            _shipments(session, _store(session, runtime, "fedex"), numbers=numbers, code="fedex",
                       due=datetime.now(timezone.utc) - timedelta(seconds=1))
        started = time.perf_counter()
        counts = poll_tick(runtime)
        elapsed = time.perf_counter() - started
        calls = len(fake.requests_to("/track/v1/trackingnumbers"))
        return {"parcels": counts["polled"], "seconds": elapsed, "rate": counts["polled"] / elapsed, "calls": calls,
                "triggers": counts["triggers"]}


def tick_cost(non_due: int, *, due: int = 100, runs: int = 5) -> float:
    """Median seconds of one poll pass over `due` parcels while `non_due` others wait in the table."""
    with bench_app(BATCH_SIZE=due) as app:
        runtime = app.extensions["runtime"]
        runtime.gate_factory = None
        future = datetime.now(timezone.utc) + timedelta(days=3)
        with runtime.db.session() as session:
            store = _store(session, runtime, "sandbox")
            session.flush()
            order_id = session.scalar(insert(Order).returning(Order.id).values(
                store_id=store.id, external_id="bulk", number="#bulk", placed_at=future, remote_updated_at=future,
                currency="EUR", total=Decimal("1"), line_items=[], cancelled=False, created_at=future))
            # the non-due bulk, written by the database itself: a million rows in seconds
            session.execute(text("""
                INSERT INTO shipments (store_id, order_id, fulfillment_external_id, tracking_number, carrier_code,
                    is_return, line_item_ids, status, shipped_at, next_poll_at, poll_failures, delay_episode,
                    delay_open, tracking_token, created_at, updated_at)
                SELECT :store, :order_id, 'B' || g, 'BULK' || g, 'sandbox', false, '[]', 'in_transit', now(),
                    now() + (g % 1000) * interval '1 minute' + interval '1 day', 0, 0, false, md5(g::text), now(), now()
                FROM generate_series(1, :n) AS g"""), {"store": store.id, "order_id": order_id, "n": non_due})
            numbers = [make_tracking_number(journey="STD", created_at=datetime.now(timezone.utc), serial=i)
                       for i in range(due)]
            _shipments(session, store, numbers=numbers, code="sandbox", due=datetime.now(timezone.utc))
        with runtime.db.engine.begin() as conn:
            conn.execute(text("ANALYZE shipments"))
        timings = []
        for _ in range(runs):
            with runtime.db.session() as session:
                session.execute(update(Shipment).where(Shipment.tracking_number.like("SBX-%"))
                                .values(next_poll_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
            started = time.perf_counter()
            counts = poll_tick(runtime)
            timings.append(time.perf_counter() - started)
            assert counts["polled"] == due, counts
        return median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=3000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    t = throughput(args.parcels)
    print(f"poller throughput: {t['parcels']} parcels in {t['seconds']:.2f} s = {t['rate']:.0f} parcels/s per worker "
          f"({t['calls']} carrier calls at {LATENCY * 1000:.0f} ms, {t['triggers']} triggers written)")
    small, big = tick_cost(args.small), tick_cost(args.big)
    print(f"tick cost (100 due parcels): {small * 1000:.1f} ms with {args.small:,} non-due rows, "
          f"{big * 1000:.1f} ms with {args.big:,} non-due rows (ratio {big / small:.2f})")


if __name__ == "__main__":
    main()
