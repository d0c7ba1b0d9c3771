"""The overview's onboarding checklist: what a store has set up, and the next action for what it has not."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CarrierAccount, EspConnection, Order, OutboxItem, Store
from app.models.outbox import OutboxState
from app.models.shipment import Shipment
from app.models.store import StoreStatus
from integrations.carriers import CARRIERS


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    state: str  # what is true now, in one sentence
    action: str | None = None  # the next thing to do (label)
    target: str | None = None  # where: a page name the web layer turns into a link
    target_args: dict[str, str] = field(default_factory=dict)  # what that page needs besides the store


def _store_step(session: Session, store: Store) -> Step:
    orders = session.scalar(select(func.count(Order.id)).where(Order.store_id == store.id)) or 0
    if store.platform == "sandbox":
        return Step("store", "Store connected", True, f"Demo store with {orders} orders; connect your own shop when ready.",
                    "Connect a WooCommerce store", "woocommerce_connect")
    if store.status != StoreStatus.ACTIVE:
        # Each platform has its own way back in: Shopify's install flow for that shop, WooCommerce's key grant.
        if store.platform == "shopify":
            return Step("store", "Store connected", False, f"The app is {store.status} on {store.domain}.",
                        "Reinstall the app", "shopify_install", {"shop": store.domain})
        return Step("store", "Store connected", False, f"The app is {store.status} on {store.domain}.",
                    "Reconnect the store", "woocommerce_connect")
    synced = f", last synced {store.last_synced_at:%Y-%m-%d %H:%M} UTC" if store.last_synced_at else ""
    return Step("store", "Store connected", True, f"{store.domain}: {orders} orders{synced}.")


def _esp_step(connection: EspConnection | None) -> Step:
    if connection is None:
        return Step("esp", "ESP key pasted and valid", False, "No ESP yet: events only go to the event log.",
                    "Paste your Klaviyo private key", "esp")
    if connection.status != "active":
        return Step("esp", "ESP key pasted and valid", False,
                    f"{connection.provider} is paused: {connection.paused_reason or 'the key was refused'}.",
                    "Fix the ESP connection", "esp")
    return Step("esp", "ESP key pasted and valid", True,
                f"{connection.provider.capitalize()} account {connection.account_name or ''} is connected.".replace("  ", " "))


def _carrier_step(session: Session, store: Store) -> Step:
    used = dict(session.execute(select(Shipment.carrier_code, func.count()).where(Shipment.store_id == store.id)
                                .group_by(Shipment.carrier_code)).all())
    accounts = set(session.scalars(select(CarrierAccount.carrier_code).where(
        CarrierAccount.store_id == store.id, CarrierAccount.verified_at.is_not(None))))
    needing = sorted(code for code in used if code in CARRIERS and CARRIERS[code].credential_fields)
    missing = [code for code in needing if code not in accounts]
    untracked = used.get(None, 0)
    if not used:
        return Step("carriers", "Carriers set up", False, "No parcels yet: carriers are detected from tracking numbers.",
                    "Review carriers", "carriers")
    if missing:
        names = ", ".join(CARRIERS[c].name for c in missing)
        return Step("carriers", "Carriers set up", False, f"Credentials needed for {names}.", "Add carrier credentials",
                    "carriers")
    tracked = [CARRIERS[c].name for c in sorted(c for c in used if c in CARRIERS)]
    note = f" {untracked} parcels use a carrier we cannot track yet." if untracked else ""
    return Step("carriers", "Carriers set up", not untracked, f"Tracking {', '.join(tracked) or 'no carrier'}.{note}",
                "Review carriers" if untracked else None, "carriers" if untracked else None)


def _first_event_step(session: Session, store: Store, connection: EspConnection | None) -> Step:
    sent = select(func.min(OutboxItem.sent_at)).where(OutboxItem.store_id == store.id, OutboxItem.destination == "esp",
                                                      OutboxItem.state == OutboxState.SENT)
    if connection is not None:
        sent = sent.where(OutboxItem.delivered_via == connection.provider)
    first = session.scalar(sent)
    if first is None:
        return Step("first_event", "First event sent", False,
                    "No event has reached your ESP yet." if connection else "Events are logged here until an ESP is connected.",
                    "Send a test event", "triggers")
    where = connection.provider.capitalize() if connection else "the event log"
    return Step("first_event", "First event sent", True, f"First event delivered to {where} on {first:%Y-%m-%d %H:%M} UTC.")


def checklist(session: Session, *, store: Store, connection: EspConnection | None) -> list[Step]:
    """`connection`: the store's current_connection(), which the overview has already fetched for its own use."""
    return [_store_step(session, store), _esp_step(connection), _carrier_step(session, store),
            _first_event_step(session, store, connection)]
