"""The shipment state machine: apply a normalized carrier result, record events, and write the triggers it fires."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Order, OutboxItem, Shipment, Store, TrackingEventRecord
from app.services.catalog import Trigger
from app.services.delays import DelayReason, after_poll, open_episode
from app.services.outbox import enqueue, is_stale
from app.services.writeback import enqueue_writeback
from integrations.carriers.base import TrackingEvent, TrackingResult
from integrations.status import CARRIER_DELAY_SUBSTATUS, ExceptionReason, ShipmentStatus

log = logging.getLogger(__name__)

# Exception reasons that mean "late", not "broken": they open a delay episode instead of an exception.
DELAY_REASONS = frozenset({ExceptionReason.WEATHER.value})


@dataclass(frozen=True)
class TrackingContext:
    app_url: str
    backfill_window_hours: int = 48


def fingerprint(event: TrackingEvent) -> str:
    raw = "|".join([event.occurred_at.astimezone(timezone.utc).isoformat(), event.code or "", event.description.strip()])
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def is_delay(status: str, substatus: str | None) -> bool:
    if status == ShipmentStatus.IN_TRANSIT.value and substatus == CARRIER_DELAY_SUBSTATUS:
        return True
    return status == ShipmentStatus.EXCEPTION.value and substatus in DELAY_REASONS


def triggers_for(status: str, substatus: str | None, *, is_return: bool) -> list[str]:
    """The catalog's triggers for one event; a return parcel fires only the return triggers."""
    if is_return:
        return [Trigger.RETURN_RECEIVED] if status == ShipmentStatus.DELIVERED.value else []
    if is_delay(status, substatus):
        return [Trigger.DELAYED] if status == ShipmentStatus.EXCEPTION.value else [Trigger.IN_TRANSIT, Trigger.DELAYED]
    if status == ShipmentStatus.EXCEPTION.value:
        return [Trigger.ADDRESS_ISSUE if substatus == ExceptionReason.ADDRESS_ISSUE.value else Trigger.EXCEPTION]
    simple = {
        ShipmentStatus.IN_TRANSIT.value: Trigger.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY.value: Trigger.OUT_FOR_DELIVERY,
        ShipmentStatus.READY_FOR_PICKUP.value: Trigger.READY_FOR_PICKUP,
        ShipmentStatus.DELIVERED.value: Trigger.DELIVERED,
        ShipmentStatus.FAILED_ATTEMPT.value: Trigger.ATTEMPT_FAILED,
        ShipmentStatus.RETURNED_TO_SENDER.value: Trigger.RETURNED_TO_SENDER,
    }
    trigger = simple.get(status)
    return [trigger] if trigger else []


def _fired_triggers(session: Session, shipment: Shipment) -> set[str]:
    return set(session.scalars(select(OutboxItem.trigger).where(OutboxItem.shipment_id == shipment.id)))


def _record_new_events(session: Session, shipment: Shipment, result: TrackingResult, now: datetime,
                       known: set[str] | None = None) -> list[TrackingEventRecord]:
    if known is None:
        known = set(session.scalars(select(TrackingEventRecord.fingerprint)
                                    .where(TrackingEventRecord.shipment_id == shipment.id)))
    events = list(result.events)
    if not events and result.status not in (ShipmentStatus.UNKNOWN, ShipmentStatus(shipment.status)):
        # Some carriers report a status without an event list: keep it as an event so the timeline explains it.
        events = [TrackingEvent(occurred_at=now, status=result.status, code=None, substatus=result.substatus,
                                description=f"carrier reports {result.status.value}")]
    new = []
    for event in sorted(events, key=lambda e: e.occurred_at):
        fp = fingerprint(event)
        if fp in known:
            continue
        known.add(fp)
        offset = event.occurred_at.utcoffset()
        record = TrackingEventRecord(
            shipment_id=shipment.id, fingerprint=fp, occurred_at=event.occurred_at,
            utc_offset_minutes=int(offset.total_seconds() // 60) if offset is not None else None,
            status=event.status.value, substatus=event.substatus, code=event.code, description=event.description,
            location=event.location, country=event.country, created_at=now,
        )
        session.add(record)
        new.append(record)
    return new


def _apply_result_fields(shipment: Shipment, result: TrackingResult) -> None:
    if result.estimated_delivery is not None:
        shipment.estimated_delivery = result.estimated_delivery.to_json()
    if result.service:
        shipment.service = result.service
    if result.tracking_url:
        shipment.carrier_tracking_url = result.tracking_url
    if result.pickup_location:
        shipment.pickup_location = result.pickup_location
    if result.pickup_deadline:
        shipment.pickup_deadline = result.pickup_deadline.isoformat()
    if result.delivered_to:
        shipment.delivered_to = result.delivered_to
    shipment.raw_payload = result.raw


def _move_to(shipment: Shipment, record: TrackingEventRecord) -> None:
    shipment.last_event_at = record.occurred_at
    shipment.last_event_description = record.description
    shipment.last_event_location = record.location
    if record.status == ShipmentStatus.UNKNOWN.value:
        return  # keep the last status we understood; the raw code stays on the event for re-mapping
    shipment.status = record.status
    shipment.substatus = record.substatus
    if record.status == ShipmentStatus.DELIVERED.value:
        shipment.delivered_at = record.occurred_at
        shipment.delivered_to = record.substatus or shipment.delivered_to


def apply_tracking_result(session: Session, *, store: Store, order: Order, shipment: Shipment, result: TrackingResult,
                          now: datetime, ctx: TrackingContext, known_fingerprints: set[str] | None = None,
                          fired: set[str] | None = None) -> list[OutboxItem]:
    """Record what is new in `result` and write the outbox rows it fires, all in the caller's transaction.

    Repeated and out-of-order results change nothing twice: events are deduplicated by fingerprint, the status only
    moves to an event newer than the last one applied, and each trigger has a unique outbox key.
    A caller applying many results may pass what it already loaded for this shipment (its event fingerprints and
    fired triggers) to save two queries per parcel.
    """
    shipment.last_polled_at = now
    if result.error is not None:
        shipment.poll_failures += 1
        shipment.last_error = f"{result.error.code}: {result.error.message}"
        return []
    shipment.poll_failures = 0
    shipment.last_error = None
    previous_eta = shipment.estimated_delivery  # before it is overwritten: a later date is an ETA slip
    _apply_result_fields(shipment, result)
    new_records = _record_new_events(session, shipment, result, now, known_fingerprints)
    previous_status = (shipment.status, shipment.substatus)  # for the store write-back below
    if not new_records:
        return after_poll(session, store=store, order=order, shipment=shipment, previous_eta=previous_eta, now=now, ctx=ctx)

    previous_newest = shipment.last_event_at
    final_newest = max([r.occurred_at for r in new_records] + ([previous_newest] if previous_newest else []))
    final_status = next((r.status for r in sorted(new_records, key=lambda r: r.occurred_at, reverse=True)
                         if r.occurred_at == final_newest), shipment.status)
    terminal = ShipmentStatus(shipment.status).is_terminal or ShipmentStatus(final_status).is_terminal

    fired = _fired_triggers(session, shipment) if fired is None else fired
    written: list[OutboxItem] = []
    for record in new_records:  # oldest first
        in_order = shipment.last_event_at is None or record.occurred_at >= shipment.last_event_at
        if in_order:
            _move_to(shipment, record)
        superseded = record.occurred_at < final_newest and record.status != final_status
        for trigger in triggers_for(record.status, record.substatus, is_return=shipment.is_return):
            delayed = trigger == Trigger.DELAYED
            if delayed and (terminal or not in_order):
                continue  # open_episode checks the parcel as it is now; only this batch knows it ends or is stale
            if not delayed and trigger in fired:
                continue  # a delay fires once per episode (open_episode's guard), every other trigger once
            extra: dict[str, Any] = {"event_code": record.code, "event_time": record.occurred_at.isoformat(),
                                     "event_location": record.location, "event_description": record.description}
            if trigger in (Trigger.ADDRESS_ISSUE, Trigger.EXCEPTION):
                extra["exception_reason"] = record.substatus or ExceptionReason.OTHER.value
            if trigger == Trigger.READY_FOR_PICKUP:
                extra.update(pickup_location=shipment.pickup_location or record.location,
                             pickup_deadline=shipment.pickup_deadline)
            if trigger in (Trigger.DELIVERED, Trigger.RETURN_RECEIVED):
                extra["delivered_to"] = record.substatus or shipment.delivered_to
            backfill = superseded or is_stale(record.occurred_at, now=now, store=store, default_hours=ctx.backfill_window_hours)
            if delayed:
                item = open_episode(session, store=store, order=order, shipment=shipment, reason=DelayReason.CARRIER,
                                    now=now, ctx=ctx, occurred_at=record.occurred_at, backfill=backfill, extra=extra)
            else:
                item = enqueue(session, store=store, order=order, shipment=shipment, trigger=trigger,
                               occurred_at=record.occurred_at, now=now, app_url=ctx.app_url, backfill=backfill,
                               extra=extra)
            if item is not None:
                written.append(item)
                fired.add(trigger)
        if in_order and shipment.delay_open and not is_delay(record.status, record.substatus) \
                and record.status != ShipmentStatus.UNKNOWN.value:
            shipment.delay_open = False  # the parcel moved again: the delay episode is over, a later one is new
    written.extend(after_poll(session, store=store, order=order, shipment=shipment, previous_eta=previous_eta, now=now,
                              ctx=ctx))
    enqueue_writeback(session, store=store, shipment=shipment, previous=previous_status, now=now, ctx=ctx)
    if written:
        log.info("shipment %s (store %s) -> %s, %d trigger(s): %s", shipment.id, store.id, shipment.status,
                 len(written), ", ".join(i.trigger for i in written))
    return written


def record_fulfillment(session: Session, *, store: Store, order: Order, shipment: Shipment, now: datetime,
                       ctx: TrackingContext) -> OutboxItem | None:
    """A new parcel: `Order Shipped` (or `Return Label Created` for a return) at the fulfillment's own time."""
    trigger = Trigger.RETURN_LABEL_CREATED if shipment.is_return else Trigger.ORDER_SHIPPED
    backfill = is_stale(shipment.shipped_at, now=now, store=store, default_hours=ctx.backfill_window_hours)
    item = enqueue(session, store=store, order=order, shipment=shipment, trigger=trigger, occurred_at=shipment.shipped_at,
                   now=now, app_url=ctx.app_url, backfill=backfill)
    # The store hears of a new parcel too (no status change yet: for Shopify that writes nothing).
    enqueue_writeback(session, store=store, shipment=shipment, previous=(shipment.status, shipment.substatus), now=now,
                      ctx=ctx)
    return item
