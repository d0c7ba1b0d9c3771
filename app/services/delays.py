"""Delay intelligence for parcels: stalled (no scan for N business days) and slipped estimated delivery."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models import Order, OutboxItem, Shipment, Store
from app.services.business_days import BusinessCalendar, calendar_for
from app.services.catalog import Trigger
from app.services.outbox import enqueue
from integrations.status import ShipmentStatus

if TYPE_CHECKING:
    from app.services.tracking import TrackingContext

S = ShipmentStatus

# Statuses in which silence means the parcel is stuck. A parcel waiting at a Packstation or held with an
# exception (address, customs) is silent by nature, and the shopper already has the specific news.
WATCHED_STATUSES = frozenset({S.LABEL_CREATED.value, S.IN_TRANSIT.value, S.OUT_FOR_DELIVERY.value,
                              S.FAILED_ATTEMPT.value})
# Carriers post the evening's last scans late; an estimated day counts as passed only this long after it ended.
ETA_GRACE = timedelta(hours=4)


class DelayReason:
    CARRIER = "carrier"
    STALLED = "stalled"
    ETA_SLIPPED = "eta_slipped"


@dataclass(frozen=True)
class DelaySettings:
    """Per-store thresholds; each field reads the settings key named in SETTINGS_KEYS."""

    stalled_domestic: float = 3.0
    stalled_international: float = 5.0
    eta_slip_days: int = 1
    fulfillment_days: float = 2.0
    saturdays: bool = True

    @classmethod
    def for_store(cls, store: Store) -> DelaySettings:
        values: dict[str, Any] = {}
        for name, key in SETTINGS_KEYS.items():
            value = store.setting(key, None)
            if value is not None:
                values[name] = _CONVERT[name](value)
        return cls(**values)


# Store.settings keys (documented in the README's trigger catalog).
SETTINGS_KEYS: dict[str, str] = {
    "stalled_domestic": "stalled_after_business_days",
    "stalled_international": "stalled_after_business_days_international",
    "eta_slip_days": "eta_slip_min_days",
    "fulfillment_days": "fulfillment_delayed_after_business_days",
    "saturdays": "business_days_include_saturday",
}

_CONVERT: dict[str, Any] = {"stalled_domestic": float, "stalled_international": float, "eta_slip_days": int,
                            "fulfillment_days": float, "saturdays": bool}


def calendar(store: Store, order: Order, settings: DelaySettings | None = None) -> BusinessCalendar:
    settings = settings or DelaySettings.for_store(store)
    return calendar_for(origin=store.country, destination=order.shipping_country, postcode=order.shipping_postcode,
                        saturdays=settings.saturdays)


def is_international(store: Store, order: Order) -> bool:
    origin, destination = (store.country or "").upper(), (order.shipping_country or "").upper()
    return bool(origin and destination and origin != destination)


def open_episode(session: Session, *, store: Store, order: Order, shipment: Shipment, reason: str, now: datetime,
                 ctx: TrackingContext, occurred_at: datetime | None = None, backfill: bool = False,
                 extra: dict[str, Any] | None = None) -> OutboxItem | None:
    """Open a delay episode and write its one `Shipment Delayed`; nothing while one is open or the parcel is done.

    Every reason follows the same episode rules: the episode number is the outbox key's suffix, and the state
    machine closes the episode when the parcel moves again, so a later delay is a new episode and event.
    A carrier-reported delay passes its scan's time (and whether that scan is old news); the others happen `now`.
    """
    if shipment.is_return or shipment.status_enum.is_terminal or shipment.delay_open:
        return None
    shipment.delay_episode += 1
    shipment.delay_open = True
    props = {"delay_reason": reason, "delay_episode": shipment.delay_episode, **(extra or {})}
    return enqueue(session, store=store, order=order, shipment=shipment, trigger=Trigger.DELAYED,
                   occurred_at=occurred_at or now, now=now, app_url=ctx.app_url, episode=shipment.delay_episode,
                   backfill=backfill, extra=props)


def check_stalled(session: Session, *, store: Store, order: Order, shipment: Shipment, now: datetime,
                  ctx: TrackingContext, settings: DelaySettings | None = None) -> OutboxItem | None:
    """No new carrier scan for N business days (origin and destination calendars, destination's local dates)."""
    if shipment.status not in WATCHED_STATUSES:
        return None
    settings = settings or DelaySettings.for_store(store)
    last_scan = shipment.last_event_at or shipment.shipped_at
    threshold = settings.stalled_international if is_international(store, order) else settings.stalled_domestic
    elapsed = calendar(store, order, settings).elapsed(last_scan, now)
    if elapsed < threshold:
        return None
    return open_episode(session, store=store, order=order, shipment=shipment, reason=DelayReason.STALLED, now=now,
                        ctx=ctx, extra={"hours_since_last_scan": int((now - last_scan).total_seconds() // 3600),
                                        "business_days_since_last_scan": int(elapsed),
                                        "last_scan_at": last_scan.isoformat()})


def eta_day(eta: dict[str, Any] | None, zone: ZoneInfo) -> date | None:
    """The last day of an estimated delivery ({"earliest", "latest"}) as a local date at the destination."""
    if not eta:
        return None
    value = eta.get("latest") or eta.get("earliest")
    if not value:
        return None
    if "T" not in value:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value)
    return (moment.astimezone(zone) if moment.tzinfo else moment).date()


def check_eta(session: Session, *, store: Store, order: Order, shipment: Shipment, previous: dict[str, Any] | None,
              now: datetime, ctx: TrackingContext, settings: DelaySettings | None = None) -> OutboxItem | None:
    """The carrier moved its estimated delivery later by at least a day, or the estimated day passed undelivered."""
    settings = settings or DelaySettings.for_store(store)
    zone = calendar(store, order, settings).zone
    old, new = eta_day(previous, zone), eta_day(shipment.estimated_delivery, zone)
    if old is not None and new is not None and (new - old).days >= settings.eta_slip_days:
        return open_episode(session, store=store, order=order, shipment=shipment, reason=DelayReason.ETA_SLIPPED,
                            now=now, ctx=ctx, extra={"previous_estimated_delivery": old.isoformat(),
                                                     "new_estimated_delivery": new.isoformat(),
                                                     "slipped_by_days": (new - old).days, "eta_passed": False})
    if new is None or shipment.status not in WATCHED_STATUSES:
        return None
    deadline = datetime.combine(new + timedelta(days=1), time(), tzinfo=zone) + ETA_GRACE
    # Passing is news once: after the parcel has moved past the deadline, only a new slip is news again.
    quiet_since = shipment.last_event_at is None or shipment.last_event_at < deadline
    if now >= deadline and quiet_since:
        return open_episode(session, store=store, order=order, shipment=shipment, reason=DelayReason.ETA_SLIPPED,
                            now=now, ctx=ctx, extra={"previous_estimated_delivery": new.isoformat(),
                                                     "new_estimated_delivery": None, "slipped_by_days": None,
                                                     "eta_passed": True})
    return None


def after_poll(session: Session, *, store: Store, order: Order, shipment: Shipment, previous_eta: dict[str, Any] | None,
               now: datetime, ctx: TrackingContext) -> list[OutboxItem]:
    """Run after every successful poll, when we know the carrier has had its say: a slip first, then silence."""
    if shipment.is_return or shipment.status_enum.is_terminal or shipment.delay_open:
        return []
    settings = DelaySettings.for_store(store)
    item = check_eta(session, store=store, order=order, shipment=shipment, previous=previous_eta, now=now, ctx=ctx,
                     settings=settings) \
        or check_stalled(session, store=store, order=order, shipment=shipment, now=now, ctx=ctx, settings=settings)
    return [item] if item is not None else []
