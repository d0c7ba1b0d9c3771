"""The carrier poller: claim due shipments, ask each carrier in batches (concurrently), apply every result on its own."""
from __future__ import annotations

import logging
import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from app.logs import log_context
from app.models import CarrierAccount, Order, OutboxItem, Shipment, Store, TrackingEventRecord
from app.services.cadence import next_poll_at, quota_interval
from app.services.claims import claim_due
from app.services.counters import Tally
from app.services.tracking import TrackingContext, apply_tracking_result
from integrations.carriers.base import Carrier, TrackingError, TrackingErrorCode, TrackingResult, error_results

log = logging.getLogger(__name__)

CarrierFactory = Callable[[str, CarrierAccount | None], Carrier]


@dataclass
class PollBatch:
    carrier: Carrier
    shipments: list[Shipment]
    min_interval: timedelta = timedelta(0)  # what the carrier's daily quota allows for this credential set


def _track(batch: PollBatch) -> list[TrackingResult]:
    """Runs in a worker thread (no database here): any failure becomes per-number errors, never a lost batch."""
    numbers = [s.tracking_number for s in batch.shipments]
    try:
        return batch.carrier.track(numbers=numbers)
    except DBAPIError:  # our database (the shared quota), not the carrier: no backoff, the lease brings it back
        raise
    except Exception as exc:  # an adapter bug must not take the other carriers' results down with it
        log.exception("carrier %s failed for a batch of %d", batch.carrier.code, len(numbers))
        return error_results(numbers, code=TrackingErrorCode.CARRIER_DOWN, message=f"{type(exc).__name__}: {exc}"[:300])


def _batches(session: Session, shipments: Sequence[Shipment], carrier_for: CarrierFactory) -> list[PollBatch]:
    groups: dict[tuple[int, str], list[Shipment]] = defaultdict(list)
    for shipment in shipments:
        groups[(shipment.store_id, shipment.carrier_code or "")].append(shipment)
    accounts = {(a.store_id, a.carrier_code): a for a in session.scalars(
        select(CarrierAccount).where(CarrierAccount.store_id.in_({k[0] for k in groups})))}
    carriers = {key: carrier_for(key[1], accounts.get(key)) for key in groups}
    quotas = {key: getattr(carrier, "quota", None) for key, carrier in carriers.items()}
    per_day = {key: quota.per_day for key, quota in quotas.items() if quota is not None and quota.per_day}
    active = _active_parcels(session, per_day) if per_day else {}
    batches = []
    for key, members in groups.items():
        carrier = carriers[key]
        size = max(int(getattr(carrier, "batch_size", 1)), 1)
        min_interval = timedelta(0)
        if key in per_day:
            min_interval = quota_interval(active_parcels=active.get(key, 0), per_day=per_day[key], batch_size=size)
        batches.extend(PollBatch(carrier, members[i:i + size], min_interval) for i in range(0, len(members), size))
    return batches


def _active_parcels(session: Session, groups: Collection[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Parcels still polled per (store, carrier), for the daily quota: one grouped query, not one per group.

    Each column is filtered with a plain IN (the same SQL on SQLite and PostgreSQL); the counts of pairs nobody
    asked about are left unread.
    """
    store_ids, codes = {store_id for store_id, _ in groups}, {code for _, code in groups}
    return {(store_id, code): count for store_id, code, count in session.execute(
        select(Shipment.store_id, Shipment.carrier_code, func.count())
        .where(Shipment.store_id.in_(store_ids), Shipment.carrier_code.in_(codes), Shipment.next_poll_at.is_not(None))
        .group_by(Shipment.store_id, Shipment.carrier_code))}


def poll_due(session: Session, *, carrier_for: CarrierFactory, now: datetime, ctx: TrackingContext,
             new_session: Callable[[], Session], limit: int = 100, concurrency: int = 8,
             lease: timedelta = timedelta(minutes=5), rng: random.Random | None = None) -> dict[str, int]:
    """One pass of the poller; returns counts (polled, errors, triggers).

    Each carrier batch is asked and then applied in its own thread and transaction (from `new_session`): carrier
    latency and database round trips overlap, and a batch that fails to apply never undoes another batch (its rows
    stay leased and become due again).
    """
    rng = rng or random.Random()
    claimed = claim_due(session, model=Shipment, due_column=Shipment.next_poll_at, now=now, limit=limit, lease=lease)
    if not claimed:
        return {"polled": 0, "errors": 0, "triggers": 0}
    batches = _batches(session, claimed, carrier_for)
    session.commit()
    workers = max(1, min(concurrency, len(batches)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda b: _poll_batch(b, new_session=new_session, now=now, ctx=ctx, rng=rng), batches))
    totals = {"polled": 0, "errors": 0, "triggers": 0}
    for counts in outcomes:
        for key, value in counts.items():
            totals[key] += value
    return totals


def _poll_batch(batch: PollBatch, **kwargs) -> dict[str, int]:
    with log_context(store=batch.shipments[0].store_id if batch.shipments else None, carrier=batch.carrier.code):
        return _poll_batch_in_context(batch, **kwargs)


def _outcomes(batch: PollBatch, results: dict[str, TrackingResult]) -> Tally:
    """Polls per carrier and outcome ("ok" or the error code), counted with the batch's own commit."""
    tally = Tally()
    for shipment in batch.shipments:
        result = results.get(shipment.tracking_number)
        outcome = "missing" if result is None else ("ok" if result.error is None else str(result.error.code))
        tally.add("polls_total", carrier=batch.carrier.code, outcome=outcome)
    return tally


def _poll_batch_in_context(batch: PollBatch, *, new_session: Callable[[], Session], now: datetime, ctx: TrackingContext,
                           rng: random.Random) -> dict[str, int]:
    try:
        results = {r.tracking_number: r for r in _track(batch)}
    except DBAPIError:
        log.warning("database unavailable while polling %d %s parcels; they are polled again when the lease ends",
                    len(batch.shipments), batch.carrier.code)
        return {"polled": 0, "errors": 0, "triggers": 0}
    session = new_session()
    try:
        try:
            # Fast path: the whole batch in one unit of work, written in a few batched statements at commit.
            counts = _apply_batch(session, batch, results, now=now, ctx=ctx, rng=rng, isolate=False)
            _outcomes(batch, results).flush_to(session)
            session.commit()
        except Exception:
            # Something in the batch is broken: start over parcel by parcel, so it costs only that parcel.
            session.rollback()
            log.warning("a batch of %d %s results failed to apply; applying them one by one", len(batch.shipments),
                        batch.carrier.code)
            counts = _apply_batch(session, batch, results, now=now, ctx=ctx, rng=rng, isolate=True)
            _outcomes(batch, results).flush_to(session)
            session.commit()
        return counts
    except Exception:
        session.rollback()
        log.exception("applying a batch of %d %s results failed; they are polled again when the lease ends",
                      len(batch.shipments), batch.carrier.code)
        return {"polled": 0, "errors": 0, "triggers": 0}
    finally:
        session.close()


def _apply_batch(session: Session, batch: PollBatch, results: dict[str, TrackingResult], *, now: datetime,
                 ctx: TrackingContext, rng: random.Random, isolate: bool) -> dict[str, int]:
    ids = [s.id for s in batch.shipments]
    shipments = session.scalars(select(Shipment).where(Shipment.id.in_(ids))
                                .options(selectinload(Shipment.order).selectinload(Order.shipments))).all()
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_({s.store_id for s in shipments})))}
    known, fired = _history(session, ids)
    counts = {"polled": 0, "errors": 0, "triggers": 0}
    for shipment in shipments:
        result = results.get(shipment.tracking_number) or TrackingResult(
            tracking_number=shipment.tracking_number,
            error=TrackingError(code=TrackingErrorCode.BAD_RESPONSE, message="carrier answered without this number"))
        counts["polled"] += 1
        counts["errors"] += result.error is not None
        apply = _apply_isolated if isolate else _apply_one
        counts["triggers"] += apply(session, store=stores[shipment.store_id], shipment=shipment, result=result,
                                    batch=batch, now=now, ctx=ctx, rng=rng, known=known[shipment.id],
                                    fired=fired[shipment.id])
    return counts


def _history(session: Session, ids: list[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Event fingerprints and fired triggers of a whole batch in two queries, instead of two per parcel."""
    known: dict[int, set[str]] = defaultdict(set)
    fired: dict[int, set[str]] = defaultdict(set)
    for shipment_id, fp in session.execute(select(TrackingEventRecord.shipment_id, TrackingEventRecord.fingerprint)
                                           .where(TrackingEventRecord.shipment_id.in_(ids))):
        known[shipment_id].add(fp)
    for shipment_id, trigger in session.execute(select(OutboxItem.shipment_id, OutboxItem.trigger)
                                                .where(OutboxItem.shipment_id.in_(ids))):
        fired[shipment_id].add(trigger)
    return known, fired


def _apply_one(session: Session, *, store: Store, shipment: Shipment, result: TrackingResult, batch: PollBatch,
               now: datetime, ctx: TrackingContext, rng: random.Random, known: set[str], fired: set[str]) -> int:
    """Apply one parcel's result and schedule its next poll (no autoflush: rows are written once, batched)."""
    with session.no_autoflush:
        written = apply_tracking_result(session, store=store, order=shipment.order, shipment=shipment, result=result,
                                        now=now, ctx=ctx, known_fingerprints=known, fired=fired)
        shipment.next_poll_at = next_poll_at(
            status=shipment.status, shipped_at=shipment.shipped_at, now=now, error=result.error,
            failures=shipment.poll_failures, scale=float(getattr(batch.carrier, "cadence_scale", 1.0)), rng=rng,
            min_interval=batch.min_interval)
        if shipment.next_poll_at is None and not shipment.tracking_stopped_reason:
            shipment.tracking_stopped_reason = "terminal" if shipment.status_enum.is_terminal else "gave_up"
    return len(written)


def _apply_isolated(session: Session, *, shipment: Shipment, now: datetime, **kwargs) -> int:
    """The slow, safe path: one savepoint per parcel, so one bad parcel never undoes the others."""
    try:
        with session.begin_nested():
            written = _apply_one(session, shipment=shipment, now=now, **kwargs)
            session.flush()
        return written
    except Exception:
        with log_context(shipment=shipment.id):
            log.exception("applying tracking result for shipment %s failed; it will be polled again", shipment.id)
        shipment.next_poll_at = now + timedelta(minutes=15)
        return 0
