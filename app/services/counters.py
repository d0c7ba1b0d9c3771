"""Database-backed counters: incremented in the same transaction as the work they count, read at scrape time.

Why not in-process prometheus counters: workers run as several processes on several machines, and a process
that restarts would reset them. A row per label set, incremented with one upsert per batch, is exact (it commits
or rolls back with the work), shared by every process, and survives restarts. Histograms are stored as one
counter per bucket (not cumulative) plus `_sum` and `_count`.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.models import MetricCounter

LATENCY_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0)


def label_string(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def parse_labels(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(",") if part)


class Tally:
    """Increments collected while a batch is processed, written with `flush_to(session)` before its commit."""

    def __init__(self) -> None:
        self.values: Counter[tuple[str, str]] = Counter()

    def add(self, name: str, amount: float = 1.0, **labels: str) -> None:
        self.values[(name, label_string(labels))] += amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        """One histogram observation: its bucket, the sum and the count."""
        bucket = next((b for b in LATENCY_BUCKETS if seconds <= b), float("inf"))
        self.add(f"{name}_bucket", 1.0, **labels, le=_le(bucket))
        self.add(f"{name}_sum", max(seconds, 0.0), **labels)
        self.add(f"{name}_count", 1.0, **labels)

    def flush_to(self, session: Session) -> None:
        if not self.values:
            return
        # Sorted, so concurrent transactions lock the counter rows in one order and cannot deadlock.
        rows = [{"name": n, "labels": lab, "value": v} for (n, lab), v in sorted(self.values.items())]
        stmt = dialect_insert(session, MetricCounter).values(rows)
        session.execute(stmt.on_conflict_do_update(index_elements=["name", "labels"],
                                                   set_={"value": MetricCounter.value + stmt.excluded.value}))
        self.values.clear()


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def read_counters(session: Session, names: Iterable[str] | None = None) -> list[MetricCounter]:
    from sqlalchemy import select

    stmt = select(MetricCounter).order_by(MetricCounter.name, MetricCounter.labels)
    if names is not None:
        stmt = stmt.where(MetricCounter.name.in_(list(names)))
    return list(session.scalars(stmt))
