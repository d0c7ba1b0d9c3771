"""Scale-out: 1, 2 and 4 worker processes on one PostgreSQL share the same work without doing any of it twice.

    .venv/bin/python -m bench.scale_out [--parcels 1500] [--workers 1,2,4]

Each run: a fresh schema, `--parcels` FedEx parcels (the fake answers in 100 ms) that fall due at once when every
worker is up; measured until the fake Klaviyo holds one event per parcel. Proof of no double work: every tracking
number was asked of the carrier exactly once, every event was received exactly once (not merely deduplicated),
and the database counted exactly one poll per parcel.
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, update

from app.models import MetricCounter, Shipment
from bench.common import (migrated_schema, peak_rss_mb, process_env, schema_app, start_worker, stop, wait_until)
from bench.end_to_end import NUMBER
from bench.scenario import all_delivered, seed_parcels
from tests.fakes.carriers import FakeFedex
from tests.fakes.klaviyo import FakeKlaviyo

LATENCY = 0.1
WORKER = {"TICK_INBOX_SECONDS": 0.5, "TICK_POLL_SECONDS": 0.5, "TICK_OUTBOX_SECONDS": 0.5, "BATCH_SIZE": 300,
          "POLL_CONCURRENCY": 8, "CARRIER_RATE_LIMIT": 0}


def run_one(workers: int, *, parcels: int, log_dir: Path | None = None) -> dict[str, float]:
    with FakeFedex() as fedex, FakeKlaviyo() as klaviyo, migrated_schema(prefix="bench") as target:
        app = schema_app(target)
        runtime = app.extensions["runtime"]
        try:
            seed_parcels(app, count=parcels, fake_fedex=fedex, latency=LATENCY)
            with runtime.db.session() as session:
                session.execute(update(Shipment).values(next_poll_at=datetime.now(timezone.utc) + timedelta(days=1)))
            env = process_env(target, FEDEX_API_URL=fedex.base_url, KLAVIYO_API_URL=klaviyo.base_url, **WORKER)
            procs = [start_worker(env, log_path=log_dir / f"scale_{workers}_{i}.log" if log_dir else None)
                     for i in range(workers)]
            try:
                time.sleep(4)  # every worker up before the work falls due
                with runtime.db.session() as session:
                    session.execute(update(Shipment).values(next_poll_at=datetime.now(timezone.utc)))
                began = time.perf_counter()
                wait_until(lambda: all_delivered(app, klaviyo, expected=parcels), timeout=300, interval=0.2,
                           what="every event")
                elapsed = time.perf_counter() - began
                rss = max(peak_rss_mb(p.pid) for p in procs)
            finally:
                for proc in procs:
                    stop(proc)
            asked = Counter(n.decode() for r in fedex.requests_to("/track/v1/trackingnumbers") for n in NUMBER.findall(r.body))
            with runtime.db.session() as session:
                polls = session.scalar(select(func.sum(MetricCounter.value)).where(MetricCounter.name == "polls_total"))
            no_double_work = (len(asked) == parcels and set(asked.values()) == {1} and len(klaviyo.events) == parcels
                              and set(klaviyo.deliveries.values()) == {1} and int(polls or 0) == parcels)
            return {"workers": workers, "seconds": elapsed, "rate": parcels / elapsed, "worker_rss_mb": rss,
                    "no_double_work": no_double_work}
        finally:
            runtime.db.dispose()


def run(*, parcels: int = 1500, counts: tuple[int, ...] = (1, 2, 4), log_dir: Path | None = None) -> list[dict]:
    return [run_one(n, parcels=parcels, log_dir=log_dir) for n in counts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=1500)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    results = run(parcels=args.parcels, counts=tuple(int(n) for n in args.workers.split(",")))
    base = results[0]["rate"]
    for r in results:
        print(f"{r['workers']} worker(s): {r['rate']:.0f} parcels/s end to end (x{r['rate'] / base:.2f}), "
              f"no double work: {r['no_double_work']}, peak RSS {r['worker_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
