"""GET /metrics in the Prometheus text format: queue depths and ages, quotas, and the database-backed counters.

Everything is read from the database at scrape time, so any web process gives the same answer for all workers
(no per-process state, no multiprocess directory). Set METRICS_TOKEN to require `Authorization: Bearer <token>`.
"""
from __future__ import annotations

import hmac
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Iterator

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import InboxItem, OutboxItem, RateLimitWindow, Shipment
from app.models.inbox import InboxState
from app.models.outbox import OutboxState
from app.services.counters import LATENCY_BUCKETS, parse_labels, read_counters
from app.web import db_session, runtime

bp = Blueprint("metrics", __name__)
PREFIX = "parcelwise"
COUNTERS = {"polls_total": ("polls", "Carrier polls per carrier and outcome (ok or the error code)"),
            "esp_deliveries_total": ("esp_deliveries", "ESP delivery outcomes per provider (sent, retry, failed, held)")}
HISTOGRAMS = {"esp_request_seconds": "Duration of one ESP send request (a bulk batch)",
              "esp_delivery_lag_seconds": "From the outbox row being written to the ESP accepting it"}


def _queue(session: Session, *, name: str, help_text: str, model: Any, due_column: Any, pending: Any,
           now: datetime) -> Iterator[GaugeMetricFamily]:
    depth, oldest = session.execute(select(func.count(), func.min(due_column)).where(pending, due_column <= now)).one()
    total = session.scalar(select(func.count()).select_from(model).where(pending)) or 0
    yield GaugeMetricFamily(f"{PREFIX}_{name}_due", f"{help_text}: rows due now", value=depth or 0)
    yield GaugeMetricFamily(f"{PREFIX}_{name}_pending", f"{help_text}: rows waiting (due now or later)", value=total)
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    yield GaugeMetricFamily(f"{PREFIX}_{name}_oldest_due_age_seconds", f"{help_text}: how long the oldest due row has waited",
                            value=max(age, 0.0))


def _quotas(session: Session, now: datetime) -> Iterator[GaugeMetricFamily]:
    from integrations.carriers import CARRIERS

    used = GaugeMetricFamily(f"{PREFIX}_carrier_quota_used", "Requests counted in the current window per credential set",
                             labels=["carrier", "credential", "window"])
    limit = GaugeMetricFamily(f"{PREFIX}_carrier_quota_limit", "Requests allowed per day per credential set",
                              labels=["carrier", "credential"])
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for key, start, count in session.execute(select(RateLimitWindow.key, RateLimitWindow.window_start, RateLimitWindow.count)
                                             .where(RateLimitWindow.key.like("carrier:%"))):
        parts = key.split(":")  # carrier:{code}:{hash of the credentials}:{day|sec}
        if len(parts) != 4:
            continue
        _, code, credential, window = parts
        if window == "day":
            used.add_metric([code, credential, "day"], count if start >= day_start else 0)
            quota = getattr(CARRIERS.get(code), "quota", None)
            if quota is not None and quota.per_day:
                limit.add_metric([code, credential], quota.per_day)
        elif window == "sec" and now - start < timedelta(seconds=60):
            used.add_metric([code, credential, "second"], count)
    yield used
    yield limit


def _counters(session: Session) -> Iterator[Any]:
    rows = read_counters(session)
    families: dict[str, CounterMetricFamily] = {}
    buckets: dict[tuple[str, tuple], dict[str, float]] = defaultdict(dict)
    sums: dict[tuple[str, tuple], float] = defaultdict(float)
    for row in rows:
        labels = parse_labels(row.labels)
        if row.name in COUNTERS:
            short, help_text = COUNTERS[row.name]
            family = families.setdefault(row.name, CounterMetricFamily(f"{PREFIX}_{short}", help_text,
                                                                       labels=sorted(labels)))
            family.add_metric([labels[k] for k in sorted(labels)], row.value)
            continue
        for hist in HISTOGRAMS:
            if row.name == f"{hist}_bucket":
                le = labels.pop("le")
                buckets[(hist, tuple(sorted(labels.items())))][le] = row.value
            elif row.name == f"{hist}_sum":
                sums[(hist, tuple(sorted(labels.items())))] = row.value
    for short, help_text in COUNTERS.values():  # always present, also before the first poll
        if not any(f.name == f"{PREFIX}_{short}" for f in families.values()):
            yield CounterMetricFamily(f"{PREFIX}_{short}", help_text, labels=[])
    yield from families.values()
    for hist, help_text in HISTOGRAMS.items():
        keys = [k for k in buckets if k[0] == hist]
        label_names = [name for name, _ in keys[0][1]] if keys else []
        family = HistogramMetricFamily(f"{PREFIX}_{hist}", help_text, labels=label_names)
        for key in keys:
            running, cumulative = 0.0, []
            for bound in [*LATENCY_BUCKETS, float("inf")]:
                le = "+Inf" if bound == float("inf") else repr(bound)
                running += buckets[key].get(le, 0.0)
                cumulative.append((le, running))
            family.add_metric([value for _, value in key[1]], cumulative, sum_value=sums.get(key, 0.0))
        yield family


class _Snapshot:
    """A collector over one database session, built for one scrape."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now

    def collect(self) -> Iterator[Any]:
        s, now = self.session, self.now
        yield from _queue(s, name="inbox", help_text="Stored webhook deliveries", model=InboxItem,
                          due_column=InboxItem.next_attempt_at, pending=InboxItem.state == InboxState.PENDING, now=now)
        yield from _queue(s, name="outbox", help_text="Events and write-backs to send", model=OutboxItem,
                          due_column=OutboxItem.next_attempt_at, pending=OutboxItem.state == OutboxState.PENDING, now=now)
        yield from _queue(s, name="poll", help_text="Parcels to poll", model=Shipment, due_column=Shipment.next_poll_at,
                          pending=Shipment.next_poll_at.is_not(None), now=now)
        failed = s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.state == OutboxState.FAILED)) or 0
        yield GaugeMetricFamily(f"{PREFIX}_outbox_failed", "Events the ESP refused for good (replayable)", value=failed)
        yield from _quotas(s, now)
        yield from _counters(s)


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), str(token).encode()):
            abort(401)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(db_session(), runtime().clock()))  # type: ignore[arg-type]
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
