"""The background steps as one declarative table; the scheduler and `flask tick` both run them from here."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy.orm import Session

from app.runtime import Runtime
from app.services.delivery import deliver_due
from app.services.inbox import process_inbox
from app.services.poller import poll_due

log = logging.getLogger(__name__)
MAX_PASSES = 20  # a tick drains due work in batches, but yields before the next tick would start


def _drain(step: Callable[[], dict[str, int]], busy_key: str, batch: int) -> dict[str, int]:
    totals: dict[str, int] = {}
    for _ in range(MAX_PASSES):
        counts = step()
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if counts.get(busy_key, 0) + counts.get("retry", 0) + counts.get("failed", 0) < batch:
            break
    return totals


def _adapter_for(runtime: Runtime):
    return lambda store, source: runtime.store_adapter(store, platform=source)


def _drain_batches(runtime: Runtime, step: Callable[[Session, int, timedelta], dict[str, int]], busy_key: str,
                   batch: int | None = None) -> dict[str, int]:
    """Drain a claimed-work step: each pass in its own session and transaction, with the configured batch and lease."""
    batch = runtime.config["BATCH_SIZE"] if batch is None else batch
    lease = timedelta(seconds=runtime.config["LEASE_SECONDS"])

    def one_pass() -> dict[str, int]:
        with runtime.db.session() as session:
            return step(session, batch, lease)
    return _drain(one_pass, busy_key, batch)


def inbox_tick(runtime: Runtime) -> dict[str, int]:
    def step(session: Session, limit: int, lease: timedelta) -> dict[str, int]:
        return process_inbox(session, adapter_for=_adapter_for(runtime), now=runtime.clock(),
                             ctx=runtime.tracking_context, limit=limit, lease=lease)
    return _drain_batches(runtime, step, "done")


def poll_tick(runtime: Runtime) -> dict[str, int]:
    def step(session: Session, limit: int, lease: timedelta) -> dict[str, int]:
        return poll_due(session, carrier_for=lambda code, account: runtime.carrier(code, account=account),
                        now=runtime.clock(), ctx=runtime.tracking_context, new_session=runtime.db.sessionmaker,
                        limit=limit, concurrency=runtime.config["POLL_CONCURRENCY"], lease=lease)
    return _drain_batches(runtime, step, "polled")


def outbox_tick(runtime: Runtime) -> dict[str, int]:
    def step(session: Session, limit: int, lease: timedelta) -> dict[str, int]:
        return deliver_due(session, esp_for=runtime.esp, now=runtime.clock(), limit=limit, lease=lease)
    return _drain_batches(runtime, step, "sent", batch=runtime.config["BATCH_SIZE"] * 5)


def delays_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.fulfillment_delays import check_fulfillment_delays

    def step(session: Session, limit: int, lease: timedelta) -> dict[str, int]:
        return check_fulfillment_delays(session, now=runtime.clock(), ctx=runtime.tracking_context, limit=limit,
                                        lease=lease)
    return _drain_batches(runtime, step, "checked")


def writeback_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.writeback import deliver_writeback_due

    def step(session: Session, limit: int, lease: timedelta) -> dict[str, int]:
        return deliver_writeback_due(session, adapter_for=runtime.store_adapter, now=runtime.clock(), limit=limit,
                                     lease=lease)
    return _drain_batches(runtime, step, "sent")


def shopify_sync_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.shopify_sync import sync_due

    with runtime.db.session() as session:
        return sync_due(session, runtime, now=runtime.clock())


def woocommerce_sync_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.woocommerce_sync import sync_due

    with runtime.db.session() as session:
        return sync_due(session, runtime, now=runtime.clock())


def retention_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.retention import purge_batch

    # One transaction per batch (what _drain_batches gives): short locks, progress kept on a crash. Nothing is leased.
    def step(session: Session, limit: int, lease: timedelta) -> dict[str, int]:
        return purge_batch(session, now=runtime.clock(), limit=limit)
    return _drain_batches(runtime, step, "purged")


def aftership_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.aftership import adopt_tick_all

    with runtime.db.session() as session:
        return adopt_tick_all(session, now=runtime.clock())


def sandbox_tick(runtime: Runtime) -> dict[str, int]:
    from app.services.sandbox import live_tick

    with runtime.db.session() as session:
        return live_tick(session, now=runtime.clock(), orders=max(1, runtime.config["SANDBOX_LIVE_ORDERS_PER_MINUTE"] // 2),
                         step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Runtime], dict[str, int]]
    interval_setting: str | None  # config key holding the interval in seconds
    interval_default: float = 30.0
    enabled_setting: str | None = None  # config key that must be true for the job to be scheduled
    # The count that means "new ESP outbox rows": when non-zero the scheduler runs the outbox at once.
    queued_key: str | None = None


JOBS: tuple[Job, ...] = (
    # The inbox does not count the rows it queues; a handled webhook (a new parcel, a status) is the nearest sign.
    Job("inbox", inbox_tick, "TICK_INBOX_SECONDS", queued_key="done"),
    Job("poll", poll_tick, "TICK_POLL_SECONDS", queued_key="triggers"),
    Job("outbox", outbox_tick, "TICK_OUTBOX_SECONDS"),
    # Orders still unfulfilled N business days after placing; parcel delays are checked on every poll instead.
    Job("delays", delays_tick, "TICK_DELAYS_SECONDS", 60.0, queued_key="delayed"),
    # Shopify fulfillment events (destination "writeback" outbox rows), and each shop's backfill / hourly reconcile.
    Job("writeback", writeback_tick, "TICK_OUTBOX_SECONDS"),
    Job("shopify_sync", shopify_sync_tick, None, 30.0),
    # WooCommerce backfill on connect, periodic reconcile and re-enabling webhooks WooCommerce disabled.
    Job("woocommerce_sync", woocommerce_sync_tick, None, 30.0),
    # Events and payloads of parcels finished longer ago than each store's retention_days.
    Job("retention", retention_tick, None, 3600.0),
    # Parcels no adapter can track go to the store's AfterShip account (registered on their next poll).
    Job("aftership", aftership_tick, None, 60.0),
    Job("sandbox", sandbox_tick, None, 30.0, enabled_setting="SANDBOX_LIVE"),
)
STEPS: dict[str, Job] = {job.name: job for job in JOBS}
ONE_PASS_ORDER = ("inbox", "poll", "delays", "outbox")  # `tick all`: what arrived, then what moved, then what to announce
