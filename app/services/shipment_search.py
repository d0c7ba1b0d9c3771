"""The shipments list's search and filters as one SQL query, with its total and per-status counts."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import Order, Shipment, Store, TrackingEventRecord
from app.services.delays import WATCHED_STATUSES, DelaySettings
from integrations.status import ExceptionReason, ShipmentStatus

S = ShipmentStatus
PROBLEMS: tuple[str, ...] = ("any", "failed_attempt", "exception", "address_issue", "delayed", "stalled", "unknown")


@dataclass(frozen=True)
class ShipmentFilters:
    q: str = ""
    status: str = ""
    carrier: str = ""
    date_from: str = ""  # YYYY-MM-DD, shipped on or after
    date_to: str = ""  # YYYY-MM-DD, shipped on or before
    problem: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ShipmentFilters:
        values = {f.name: (args.get(f.name) or "").strip()[:100] for f in fields(cls)}
        if values["status"] not in {s.value for s in S}:
            values["status"] = ""
        if values["problem"] not in PROBLEMS:
            values["problem"] = ""
        for key in ("date_from", "date_to"):
            if _day(values[key]) is None:
                values[key] = ""
        return cls(**values)

    def as_args(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def problem_condition(kind: str, *, store: Store, now: datetime) -> Any:
    """SQL for one kind of problem parcel; "stalled" counts calendar days against the store's domestic threshold."""
    last_unknown = exists().where(TrackingEventRecord.shipment_id == Shipment.id,
                                  TrackingEventRecord.status == S.UNKNOWN.value,
                                  TrackingEventRecord.occurred_at == Shipment.last_event_at)
    stalled_since = now - timedelta(days=DelaySettings.for_store(store).stalled_domestic)
    conditions = {
        "failed_attempt": Shipment.status == S.FAILED_ATTEMPT.value,
        "exception": Shipment.status == S.EXCEPTION.value,
        "address_issue": and_(Shipment.status == S.EXCEPTION.value, Shipment.substatus == ExceptionReason.ADDRESS_ISSUE.value),
        "delayed": Shipment.delay_open.is_(True),
        "stalled": and_(Shipment.status.in_(WATCHED_STATUSES), ~Shipment.is_return, Shipment.next_poll_at.is_not(None),
                        func.coalesce(Shipment.last_event_at, Shipment.shipped_at) < stalled_since),
        "unknown": or_(Shipment.status == S.UNKNOWN.value, Shipment.carrier_code.is_(None), last_unknown),
    }
    if kind == "any":
        return or_(*conditions.values())
    return conditions[kind]


def filtered(store: Store, filters: ShipmentFilters, *, now: datetime) -> Select[Any]:
    query = select(Shipment).join(Order, Order.id == Shipment.order_id).where(Shipment.store_id == store.id)
    if filters.q:
        like = f"%{filters.q}%"
        number = filters.q.lstrip("#")
        query = query.where(or_(Shipment.tracking_number.ilike(like), Order.email.ilike(like),
                                Order.number.in_([number, f"#{number}"]), Order.number.ilike(like)))
    if filters.status:
        query = query.where(Shipment.status == filters.status)
    if filters.carrier:
        query = query.where(func.coalesce(Shipment.carrier_code, Shipment.carrier_name) == filters.carrier)
    if (start := _day(filters.date_from)) is not None:
        query = query.where(Shipment.shipped_at >= datetime.combine(start, time(), tzinfo=timezone.utc))
    if (end := _day(filters.date_to)) is not None:
        query = query.where(Shipment.shipped_at < datetime.combine(end + timedelta(days=1), time(), tzinfo=timezone.utc))
    if filters.problem:
        query = query.where(problem_condition(filters.problem, store=store, now=now))
    return query


@dataclass(frozen=True)
class ShipmentPage:
    rows: list[Shipment]
    total: int
    page: int
    pages: int
    by_status: dict[str, int]
    carriers: list[str]


def search(session: Session, *, store: Store, filters: ShipmentFilters, page: int, page_size: int,
           now: datetime) -> ShipmentPage:
    """Four statements whatever the size of the store: the page (plus its orders), the counts, the carrier list."""
    query = filtered(store, filters, now=now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max((total + page_size - 1) // page_size, 1)
    page = min(max(page, 1), pages)
    rows = list(session.scalars(query.options(selectinload(Shipment.order))
                                .order_by(Shipment.shipped_at.desc(), Shipment.id.desc())
                                .limit(page_size).offset((page - 1) * page_size)))
    # Facet counts ignore the status filter itself, so every status button shows what clicking it would give.
    unfiltered_status = filtered(store, ShipmentFilters(**{**filters.as_args(), "status": ""}), now=now).subquery()
    by_status = dict(session.execute(select(unfiltered_status.c.status, func.count()).group_by(unfiltered_status.c.status)).all())
    carriers = [c for c in session.scalars(
        select(func.coalesce(Shipment.carrier_code, Shipment.carrier_name)).where(Shipment.store_id == store.id).distinct()) if c]
    return ShipmentPage(rows=rows, total=total, page=page, pages=pages, by_status=by_status, carriers=sorted(carriers))
