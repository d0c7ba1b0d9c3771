"""Analytics aggregations, each one GROUP BY query in the database (SQLite and PostgreSQL), never a loop over rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.orm import Session

from app.models import Order, OutboxItem, Shipment
from app.models.outbox import OutboxState
from app.services.catalog import METRICS, Trigger
from integrations.status import ShipmentStatus

S = ShipmentStatus
PROBLEM_TRIGGERS: tuple[str, ...] = (Trigger.ATTEMPT_FAILED, Trigger.ADDRESS_ISSUE, Trigger.DELAYED, Trigger.EXCEPTION)
PARCEL_GROUPS: dict[str, tuple[str, ...]] = {
    "delivered": (S.DELIVERED.value,),
    "on the way": (S.LABEL_CREATED.value, S.IN_TRANSIT.value, S.OUT_FOR_DELIVERY.value, S.READY_FOR_PICKUP.value),
    "needs attention": (S.FAILED_ATTEMPT.value, S.EXCEPTION.value, S.UNKNOWN.value),
    "returned": (S.RETURNED_TO_SENDER.value,),
}


def _day(column: Any, dialect: str) -> Any:
    # Days are UTC days on both databases (PostgreSQL would otherwise use the session's time zone).
    return func.date(func.timezone("UTC", column)) if dialect == "postgresql" else func.date(column)


def _seconds_between(start: Any, end: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


@dataclass(frozen=True)
class EventsPerDay:
    days: list[date]
    series: dict[str, list[int]]  # trigger -> count per day, only triggers that occurred

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.series.values())


def events_per_day(session: Session, *, store_id: int, now: datetime, days: int = 14) -> EventsPerDay:
    dialect = session.get_bind().dialect.name
    first = now.date() - timedelta(days=days - 1)
    day = _day(OutboxItem.sent_at, dialect).label("day")
    rows = session.execute(select(OutboxItem.trigger, day, func.count()).where(
        OutboxItem.store_id == store_id, OutboxItem.destination == "esp", OutboxItem.state == OutboxState.SENT,
        OutboxItem.sent_at >= datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo))
        .group_by(OutboxItem.trigger, day)).all()
    calendar = [first + timedelta(days=i) for i in range(days)]
    index = {d.isoformat(): i for i, d in enumerate(calendar)}
    series: dict[str, list[int]] = {}
    for trigger, bucket, count in rows:
        position = index.get(str(bucket)[:10])
        if position is not None:
            series.setdefault(trigger, [0] * days)[position] += count
    ordered = {m: series[m] for m in METRICS if m in series}
    ordered.update({m: v for m, v in series.items() if m not in ordered})
    return EventsPerDay(days=calendar, series=ordered)


def event_delivery(session: Session, *, store_id: int, now: datetime, days: int = 14) -> dict[str, int]:
    """ESP events of the last `days` by state; backfilled ones counted apart (they reach the ESP without firing flows)."""
    since = now - timedelta(days=days)
    rows = session.execute(select(OutboxItem.state, OutboxItem.backfill, func.count()).where(
        OutboxItem.store_id == store_id, OutboxItem.destination == "esp", OutboxItem.created_at >= since)
        .group_by(OutboxItem.state, OutboxItem.backfill)).all()
    counts = {"sent": 0, "backfilled": 0, "pending": 0, "failed": 0, "skipped": 0}
    for state, backfill, count in rows:
        key = "backfilled" if state == OutboxState.SENT and backfill else state
        counts[key] = counts.get(key, 0) + count
    return counts


def parcel_outcomes(session: Session, *, store_id: int, now: datetime, days: int = 30) -> dict[str, int]:
    rows = dict(session.execute(select(Shipment.status, func.count()).where(
        Shipment.store_id == store_id, Shipment.is_return.is_(False), Shipment.shipped_at >= now - timedelta(days=days))
        .group_by(Shipment.status)).all())
    return {group: sum(rows.get(s, 0) for s in statuses) for group, statuses in PARCEL_GROUPS.items()}


@dataclass(frozen=True)
class TransitRow:
    carrier: str
    country: str
    median_hours: float
    parcels: int


def median_transit(session: Session, *, store_id: int, now: datetime, days: int = 90, top: int = 12) -> list[TransitRow]:
    """Median shipped -> delivered per carrier and destination country (window functions: exact median, one query)."""
    dialect = session.get_bind().dialect.name
    carrier = func.coalesce(Shipment.carrier_code, Shipment.carrier_name, "other")
    country = func.coalesce(Order.shipping_country, "??")
    seconds = _seconds_between(Shipment.shipped_at, Shipment.delivered_at, dialect)
    ranked = select(
        carrier.label("carrier"), country.label("country"), seconds.label("seconds"),
        func.row_number().over(partition_by=(carrier, country), order_by=seconds).label("rn"),
        func.count().over(partition_by=(carrier, country)).label("n"),
    ).join(Order, Order.id == Shipment.order_id).where(
        Shipment.store_id == store_id, Shipment.is_return.is_(False), Shipment.status == S.DELIVERED.value,
        Shipment.delivered_at.is_not(None), Shipment.delivered_at >= now - timedelta(days=days)).subquery()
    n = cast(ranked.c.n, Integer)
    middle = and_(ranked.c.rn >= (n + 1) // 2, ranked.c.rn <= (n + 2) // 2)  # one row when n is odd, two when even
    rows = session.execute(select(ranked.c.carrier, ranked.c.country, func.avg(ranked.c.seconds), func.max(ranked.c.n))
                           .where(middle).group_by(ranked.c.carrier, ranked.c.country)
                           .order_by(func.max(ranked.c.n).desc(), ranked.c.carrier, ranked.c.country).limit(top)).all()
    return [TransitRow(carrier=c, country=k, median_hours=float(s) / 3600.0, parcels=int(p)) for c, k, s, p in rows]


@dataclass(frozen=True)
class ProblemShare:
    parcels: int
    any_problem: int
    by_trigger: dict[str, int]


def problem_share(session: Session, *, store_id: int, now: datetime, days: int = 30) -> ProblemShare:
    """Outbound parcels shipped in the last `days` that hit each problem (a switched-off trigger still counts)."""
    window = and_(Shipment.store_id == store_id, Shipment.is_return.is_(False), Shipment.shipped_at >= now - timedelta(days=days))
    parcels = session.scalar(select(func.count()).select_from(Shipment).where(window)) or 0
    problems = and_(OutboxItem.trigger.in_(PROBLEM_TRIGGERS), OutboxItem.destination == "esp")
    joined = select(OutboxItem.trigger, func.count(func.distinct(OutboxItem.shipment_id))).join(
        Shipment, Shipment.id == OutboxItem.shipment_id).where(window, problems).group_by(OutboxItem.trigger)
    by_trigger = {t: 0 for t in PROBLEM_TRIGGERS} | dict(session.execute(joined).all())
    any_problem = session.scalar(select(func.count(func.distinct(OutboxItem.shipment_id))).join(
        Shipment, Shipment.id == OutboxItem.shipment_id).where(window, problems)) or 0
    return ProblemShare(parcels=parcels, any_problem=any_problem, by_trigger=by_trigger)
