"""The aggregator path: parcels of carriers without an adapter are tracked through the store's AfterShip account."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import CarrierAccount, InboxItem, Shipment, Store
from app.services.tracking import TrackingContext, apply_tracking_result
from integrations.carriers.aftership import AfterShip

log = logging.getLogger(__name__)

AGGREGATOR = "aftership"
SOURCE = "aftership"


def aftership_account(session: Session, *, store_id: int) -> CarrierAccount | None:
    return session.scalar(select(CarrierAccount).where(CarrierAccount.store_id == store_id,
                                                        CarrierAccount.carrier_code == AGGREGATOR))


def webhook_secret(session: Session, *, vault: Any, store_id: int) -> str | None:
    account = aftership_account(session, store_id=store_id)
    if account is None or not account.credentials_encrypted:
        return None
    return (vault.decrypt(account.credentials_encrypted) or {}).get("webhook_secret")


def adopt_untracked(session: Session, *, now: datetime, store_id: int | None = None) -> int:
    """Hand every parcel no adapter can track to AfterShip, in stores that have an AfterShip key.

    The poller then registers each number with AfterShip (its first poll) and AfterShip's webhooks bring the news.
    """
    stores = select(CarrierAccount.store_id).where(CarrierAccount.carrier_code == AGGREGATOR)
    if store_id is not None:
        stores = stores.where(CarrierAccount.store_id == store_id)
    result = session.execute(
        update(Shipment)
        .where(Shipment.carrier_code.is_(None), Shipment.tracking_stopped_reason.is_(None),
               Shipment.store_id.in_(stores), Shipment.tracking_number != "")
        .values(carrier_code=AGGREGATOR, next_poll_at=now, poll_failures=0, last_error=None)
        .execution_options(synchronize_session=False))
    count = result.rowcount or 0
    if count:
        log.info("handed %d untrackable parcel(s) to AfterShip", count)
    return count


def apply_aftership_delivery(session: Session, *, store: Store, item: InboxItem, now: datetime,
                             ctx: TrackingContext) -> None:
    """One stored AfterShip webhook: the same state machine as a poll, so each trigger still fires once."""
    result = AfterShip().parse_webhook(item.body)  # ValueError: malformed, kept as failed for inspection
    shipments = session.scalars(select(Shipment).where(
        Shipment.store_id == store.id, Shipment.tracking_number == result.tracking_number,
        Shipment.carrier_code.is_(None) | (Shipment.carrier_code == AGGREGATOR))).all()
    if not shipments:
        log.info("AfterShip webhook for a number this store does not track through AfterShip; ignored")
        return
    for shipment in shipments:
        shipment.carrier_code = AGGREGATOR
        apply_tracking_result(session, store=store, order=shipment.order, shipment=shipment, result=result, now=now,
                              ctx=ctx)
        if shipment.status_enum.is_terminal:
            shipment.next_poll_at = None
            shipment.tracking_stopped_reason = "terminal"


def adopt_tick_all(session: Session, *, now: datetime) -> dict[str, int]:
    adopted = adopt_untracked(session, now=now)
    session.commit()
    return {"adopted": adopted}
