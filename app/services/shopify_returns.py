"""Shopify returns: a returns webhook names a return; its tracked parcels become return shipments of the order."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Store
from app.services.fulfillments import merge_fulfillment
from app.services.tracking import TrackingContext
from integrations.stores.base import WebhookChange

log = logging.getLogger(__name__)


def apply_return(session: Session, *, store: Store, change: WebhookChange, now: datetime, ctx: TrackingContext,
                 adapter: Any) -> None:
    """Fetch the whole return (returns/* bodies carry no tracking, reverse_deliveries/* no order) and merge its
    parcels through the fulfillment path, which fires `Return Label Created` once per new tracking number."""
    found = adapter.fetch_return(return_id=change.return_id)
    if found is None:
        log.info("Shopify return %s of store %s no longer exists", change.return_id, store.id)
        return
    for parcel_change in found.webhook_changes():
        merge_fulfillment(session, store=store, change=parcel_change, now=now, ctx=ctx, adapter=adapter)
