"""What the merchant sees about each carrier: where credentials come from, quota, cadence and this store's health."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CarrierAccount, RateLimitWindow, Shipment
from app.services.cadence import POLL_INTERVALS
from app.services.carrier_quota import DAY, limiter_scope
from app.services.ratelimit import window_start
from integrations.carriers import CARRIERS
from integrations.status import ShipmentStatus


@dataclass(frozen=True)
class Portal:
    api: str
    portal: str
    url: str


# Where a merchant gets each carrier's credentials (the developer portal or account page).
PORTALS: dict[str, Portal] = {
    "dhl": Portal("Shipment Tracking - Unified", "DHL API Developer Portal", "https://developer.dhl.com"),
    "dhl_parcel_de": Portal("Parcel DE Tracking (XML)", "DHL API Developer Portal", "https://developer.dhl.com"),
    "ups": Portal("Track API v1", "UPS Developer Portal", "https://developer.ups.com"),
    "fedex": Portal("Track API v1", "FedEx Developer Portal", "https://developer.fedex.com"),
    "usps": Portal("Tracking v3", "USPS Developer Portal", "https://developers.usps.com"),
    "dpd": Portal("ParcelLifeCycle (SOAP getTrackingData)", "DPD web services (delisId from your DPD depot)",
                  "https://esolutions.dpd.com"),
    "gls": Portal("Track and Trace v1", "GLS Developer Portal", "https://dev-portal.gls-group.net"),
    "hermes": Portal("HSI shipmentinfo", "Hermes Germany HSI access (your Hermes account manager)",
                     "https://www.hermesworld.com"),
    "laposte": Portal("Suivi v2 (Colissimo, Lettre suivie)", "La Poste Developer (Okapi)", "https://developer.laposte.fr"),
    "royalmail": Portal("Tracking API v2", "Royal Mail Developer Portal", "https://developer.royalmail.net"),
    "canadapost": Portal("Tracking (VIS)", "Canada Post Developer Program",
                         "https://www.canadapost-postescanada.ca/information/app/drc/home"),
    "aftership": Portal("Tracking API + webhooks (every other carrier)", "AfterShip admin: API keys and Webhooks",
                        "https://admin.aftership.com/settings/api-keys"),
}
CADENCE_SHOWN = (ShipmentStatus.LABEL_CREATED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY)


@dataclass(frozen=True)
class CarrierHealth:
    active: int = 0
    last_success: datetime | None = None
    polled_24h: int = 0
    errors_24h: int = 0
    quota_used_today: int | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors_24h / self.polled_24h if self.polled_24h else None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min" if minutes < 60 else f"{minutes / 60:.1f} h"


def cadence(cls: type) -> str:
    scale = float(getattr(cls, "cadence_scale", 1.0))
    return " · ".join(f"{s.value.replace('_', ' ')} every {_duration(POLL_INTERVALS[s] * scale)}" for s in CADENCE_SHOWN)


def quota_text(cls: type) -> str:
    quota = cls.quota
    per_second = f"{quota.per_second:g}/s"
    return f"{per_second}, {quota.per_day}/day (resets 00:00 UTC)" if quota.per_day else f"{per_second}, no daily cap"


def catalog_rows(session: Session, *, vault: Any, store_id: int, now: datetime) -> list[dict[str, Any]]:
    accounts = {a.carrier_code: a for a in session.scalars(select(CarrierAccount).where(
        CarrierAccount.store_id == store_id))}
    # Decrypted once here for both the masked form and the quota key; a carrier without saved credentials is absent.
    credentials = {code: vault.decrypt(accounts[code].credentials_encrypted) for code in CARRIERS
                   if code in accounts and accounts[code].credentials_encrypted}
    health = carrier_health(session, store_id=store_id, now=now, credentials=credentials)
    rows = []
    for code, cls in CARRIERS.items():
        if code == "sandbox":
            continue
        account = accounts.get(code)
        saved = credentials.get(code)
        rows.append({"code": code, "name": cls.name, "portal": PORTALS.get(code), "fields": cls.credential_fields,
                     "saved": {k: _mask(str(v)) for k, v in (saved or {}).items() if k in cls.credential_fields},
                     "verified_at": account.verified_at if account else None, "batch_size": cls.batch_size,
                     "quota": quota_text(cls), "cadence": cadence(cls), "health": health.get(code, CarrierHealth())})
    return rows


def carrier_health(session: Session, *, store_id: int, now: datetime,
                   credentials: dict[str, Any]) -> dict[str, CarrierHealth]:
    """Derived from the shipments' last poll outcome (last 24 h) and the shared quota counters of today.

    `credentials` are the store's decrypted credentials by carrier code; they name the quota counter to read.
    """
    since = now - timedelta(hours=24)
    rows = session.execute(
        select(Shipment.carrier_code,
               func.count(Shipment.id).filter(Shipment.next_poll_at.is_not(None)),
               func.max(Shipment.last_polled_at).filter(Shipment.last_error.is_(None)),
               func.count(Shipment.id).filter(Shipment.last_polled_at >= since),
               func.count(Shipment.id).filter(Shipment.last_polled_at >= since, Shipment.last_error.is_not(None)))
        .where(Shipment.store_id == store_id, Shipment.carrier_code.is_not(None))
        .group_by(Shipment.carrier_code)).all()
    today = window_start(now, DAY)
    # A missing credential set is None, never {}: it names the quota counter, exactly as the poller's gate does.
    day_keys = {code: f"{limiter_scope(f'carrier:{code}', credentials.get(code))}:day"
                for code, cls in CARRIERS.items() if cls.quota.per_day}
    windows = {w.key: w for w in session.scalars(select(RateLimitWindow).where(
        RateLimitWindow.key.in_(day_keys.values())))} if day_keys else {}
    out: dict[str, CarrierHealth] = {}
    for code in CARRIERS:
        used = None
        if code in day_keys:
            window = windows.get(day_keys[code])
            used = window.count if window is not None and window.window_start >= today else 0
        out[code] = CarrierHealth(quota_used_today=used)
    for code, active, last_success, polled, errors in rows:
        if code in out:
            out[code] = CarrierHealth(active=active, last_success=last_success, polled_24h=polled, errors_24h=errors,
                                      quota_used_today=out[code].quota_used_today)
    return out


def _mask(secret: str) -> str:
    return f"{secret[:2]}…{secret[-2:]}" if len(secret) > 8 else "…"
