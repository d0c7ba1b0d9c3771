"""End-to-end latency: from the poll that sees a parcel's status change to the fake Klaviyo receiving its event,
with the default tick intervals in a real worker process (`flask --app app worker`) on PostgreSQL.

    .venv/bin/python -m bench.end_to_end [--parcels 300] [--spread 20]

Parcels fall due one after another over `--spread` seconds, so polls happen at every point of the tick cycles.
The polling interval itself is excluded: the clock starts when the carrier answers.
"""
from __future__ import annotations

import argparse
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from app.models import OutboxItem, Shipment
from bench.common import (migrated_schema, peak_rss_mb, percentile, process_env, schema_app, start_worker, stop,
                          wait_until)
from bench.scenario import all_delivered, seed_parcels
from tests.fakes.carriers import FakeFedex
from tests.fakes.http import Request, Response
from tests.fakes.klaviyo import FakeKlaviyo

NUMBER = re.compile(rb"\b7\d{11}\b")


class TimedFedex(FakeFedex):
    """Notes when each number's answer leaves the carrier: the moment the poller learns of the change."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: dict[str, float] = {}

    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        if request.path == "/track/v1/trackingnumbers":
            now = time.time()
            for number in NUMBER.findall(request.body):
                self.answered.setdefault(number.decode(), now)
        return response


class TimedKlaviyo(FakeKlaviyo):
    """Notes when each event is first received."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.received: dict[str, float] = {}

    def _store(self, attributes: dict[str, Any], profile: dict[str, Any], *, via: str) -> None:
        self.received.setdefault(attributes.get("unique_id"), time.time())
        super()._store(attributes, profile, via=via)


def run(*, parcels: int = 300, spread: float = 20.0, log_dir: Path | None = None) -> dict[str, float]:
    with TimedFedex() as fedex, TimedKlaviyo() as klaviyo, migrated_schema(prefix="bench") as target:
        app = schema_app(target)
        runtime = app.extensions["runtime"]
        try:
            seed_parcels(app, count=parcels, fake_fedex=fedex)
            with runtime.db.session() as session:  # not due until the worker is up
                session.execute(update(Shipment).values(next_poll_at=datetime.now(timezone.utc) + timedelta(days=1)))
            # Default tick intervals: nothing but the carrier and ESP URLs is changed.
            worker = start_worker(process_env(target, FEDEX_API_URL=fedex.base_url, KLAVIYO_API_URL=klaviyo.base_url),
                                  log_path=log_dir / "end_to_end_worker.log" if log_dir else None)
            try:
                time.sleep(3)  # the worker's start-up is not part of the latency
                start = datetime.now(timezone.utc)
                with runtime.db.session() as session:
                    ids = session.scalars(select(Shipment.id).order_by(Shipment.id)).all()
                    for i, shipment_id in enumerate(ids):
                        session.execute(update(Shipment).where(Shipment.id == shipment_id).values(
                            next_poll_at=start + timedelta(seconds=spread * i / max(len(ids), 1))))
                wait_until(lambda: all_delivered(app, klaviyo, expected=parcels), timeout=spread + 60,
                           interval=0.5, what="every event")
                rss = peak_rss_mb(worker.pid)
            finally:
                stop(worker)
            with runtime.db.session() as session:
                numbers = dict(session.execute(select(OutboxItem.key, Shipment.tracking_number)
                                               .join(Shipment, Shipment.id == OutboxItem.shipment_id)).all())
            latencies = [klaviyo.received[key] - fedex.answered[number] for key, number in numbers.items()]
            return {"events": len(latencies), "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                    "max": max(latencies), "worker_rss_mb": rss}
        finally:
            runtime.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=300)
    parser.add_argument("--spread", type=float, default=20.0)
    args = parser.parse_args()
    r = run(parcels=args.parcels, spread=args.spread)
    print(f"end to end ({r['events']} events): p50 {r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms, "
          f"max {r['max'] * 1000:.0f} ms; worker peak RSS {r['worker_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
