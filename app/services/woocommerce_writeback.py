"""WooCommerce write-back rows: a private order note when a parcel ships, is delivered or hits a problem, and
optionally `completed` on delivery; written in the caller's transaction, sent by the write-back step."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Order, OutboxItem, Shipment, Store
from app.models.outbox import OutboxState
from app.services.event_payload import tracking_page_url
from app.services.outbox import insert_outbox_row, is_stale, outbox_key
from integrations.status import ShipmentStatus
from integrations.stores.woocommerce.writeback import note_text

log = logging.getLogger(__name__)

# Defined here rather than in woocommerce_connect (which re-exports them): the poller imports this module through
# tracking -> writeback, and woocommerce_connect would pull in the whole connect flow (accounts, the WooCommerce client).
PLATFORM = "woocommerce"
# Write-back switches (store settings): a private note on key events, and `completed` on delivery.
NOTES_SETTING = "woocommerce_notes"
COMPLETE_SETTING = "woocommerce_complete_on_delivery"
DESTINATION = "writeback"
_KIND_BY_STATUS = {
    ShipmentStatus.DELIVERED.value: "delivered",
    ShipmentStatus.EXCEPTION.value: "exception",
    ShipmentStatus.RETURNED_TO_SENDER.value: "exception",
}
_HEADLINES = {"shipped": "Shipped", "delivered": "Delivered", "exception": "Delivery problem"}


def notes_enabled(store: Store) -> bool:
    return store.setting(NOTES_SETTING, True) is not False


def complete_enabled(store: Store) -> bool:
    return store.setting(COMPLETE_SETTING, False) is True


def writeback_enabled(store: Store) -> bool:
    return store.platform == PLATFORM and (notes_enabled(store) or complete_enabled(store))


def _kind(shipment: Shipment, previous: tuple[str | None, str | None]) -> str | None:
    if previous[0] != shipment.status:
        return _KIND_BY_STATUS.get(shipment.status)
    # No status change: the call for a new parcel, or a poll with more of the same (the unique key dedupes).
    return "shipped" if shipment.status not in _KIND_BY_STATUS else None


def enqueue(session: Session, *, store: Store, shipment: Shipment, previous: tuple[str | None, str | None],
            now: datetime, app_url: str = "", backfill_hours: int = 48) -> OutboxItem | None:
    """At most one row per (shipment, kind); news older than the store's backfill window writes nothing (a
    backfill must not flood old orders with notes, or complete them and email their shoppers)."""
    if not writeback_enabled(store) or shipment.is_return:
        return None
    kind = _kind(shipment, previous)
    if kind is None:
        return None
    happened = shipment.shipped_at if kind == "shipped" else (shipment.last_event_at or now)
    if is_stale(happened, now=now, store=store, default_hours=backfill_hours):
        return None
    complete = kind == "delivered" and complete_enabled(store)
    if not notes_enabled(store) and not complete:
        return None
    key = outbox_key(store=store, shipment=shipment, trigger=f"woocommerce-{kind}") + f"@{DESTINATION}"
    order = shipment.order if shipment.order is not None else session.get(Order, shipment.order_id)
    reference = f"{store.id}-{shipment.id}-{kind}"
    detail = shipment.last_event_description if kind != "shipped" else None
    note = note_text(headline=_HEADLINES[kind], carrier_name=shipment.carrier_name,
                     tracking_number=shipment.tracking_number,
                     tracking_url=tracking_page_url(app_url, shipment) if app_url else shipment.carrier_tracking_url,
                     detail=detail, reference=reference) if notes_enabled(store) else None
    payload: dict[str, Any] = {"order_external_id": order.external_id if order else None, "kind": kind,
                               "note": note, "complete": complete, "reference": reference}
    # The unique key makes a repeated call a no-op (None).
    return insert_outbox_row(session, key=key, store_id=store.id, order_id=shipment.order_id, shipment_id=shipment.id,
                             trigger=f"order note: {kind}", destination=DESTINATION, occurred_at=happened,
                             payload=payload, state=OutboxState.PENDING, next_attempt_at=now, created_at=now)
