"""Hermes Germany HSI `shipmentinfo` (OAuth password grant): keeps the timezone offsets Hermes sends."""
from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any, ClassVar, Mapping

from integrations.carriers.adapter import HttpCarrier, Mapped, json_object, match_text, text_rules
from integrations.carriers.base import (
    EstimatedDelivery,
    Quota,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from integrations.carriers.countries import alpha2
from integrations.carriers.localtime import parse_date, parse_iso, zone_for
from integrations.carriers.transport import OAuthClient
from integrations.status import DeliveredTo, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `status[].code`: Hermes' four-digit shipment status codes.
STATUS_CODES: dict[str, Mapped] = {
    "0000": (S.LABEL_CREATED, None),  # announced to Hermes electronically
    "1000": (S.IN_TRANSIT, None),  # taken over by Hermes (collected, or dropped at a ParcelShop)
    "2000": (S.IN_TRANSIT, None),  # arrived at / sorted in a Hermes distribution centre
    "3000": (S.OUT_FOR_DELIVERY, None),  # on a delivery route, delivery expected today
    "3500": (S.DELIVERED, None),  # delivered; where, only the text says
}
DELIVERED_TEXT = text_rules(
    (r"neighbou?r|nachbar", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"parcel ?shop|paketshop", S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),
    (r"safe place|ablageort|abstellort", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
    (r"mailbox|letterbox|briefkasten", S.DELIVERED, DeliveredTo.MAILBOX.value),
)
_REFINE = {S.DELIVERED: DELIVERED_TEXT}

RESULT_ERRORS: dict[str, str] = {
    "e001": TrackingErrorCode.NOT_FOUND,  # "There is no information for the entered value."
}


def map_status(code: str | None, text: str) -> Mapped:
    mapped = STATUS_CODES.get((code or "").strip())
    if mapped is None:
        return S.UNKNOWN, None
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


class Hermes(HttpCarrier):
    code: ClassVar[str] = "hermes"
    name: ClassVar[str] = "Hermes Germany"
    batch_size: ClassVar[int] = 1
    quota: ClassVar[Quota] = Quota(per_second=2)  # no published limit for shipmentinfo; kept low
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "username", "password")
    DEFAULT_BASE_URL: ClassVar[str] = "https://de-api.hermesworld.com"
    TRACKING_URL: ClassVar[str] = "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{number}"
    # Hermes' login lives on another host; an overridden base URL (a gateway, a test fake) serves both.
    TOKEN_URL: ClassVar[str] = "https://authme.myhermes.de/authorization-facade/oauth2/access_token"
    TOKEN_PATH: ClassVar[str] = "/authorization-facade/oauth2/access_token"

    def _oauth(self) -> OAuthClient:
        token = self.TOKEN_URL if self.base_url == self.DEFAULT_BASE_URL else self.TOKEN_PATH
        return _PasswordGrant(token_path=token, client_id=self._credential("client_id"),
                           client_secret=self._credential("client_secret"), style="form",
                           extra={"grant_type": "password", "username": self._credential("username"),
                                  "password": self._credential("password")})

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request("GET", "/services/hsi/shipmentinfo", params={"shipmentID": batch[0]},
                                          headers={"Accept": "application/json"}, oauth=self._oauth())
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a Hermes body")
        if isinstance(data.get("shipmentinfo"), list):
            return [self._shipment(s) for s in data["shipmentinfo"] if isinstance(s, dict)]
        if isinstance(data.get("result"), dict):
            return [TrackingResult(tracking_number="", raw=data, error=_error(data["result"]))]
        raise ValueError("not a Hermes body: no `shipmentinfo`")

    def _shipment(self, shipment: Mapping[str, Any]) -> TrackingResult:
        number = str(shipment.get("shipmentID") or "")
        result = shipment.get("result")
        if isinstance(result, dict) and result.get("code") and not shipment.get("status"):
            return TrackingResult(tracking_number=number, raw=dict(shipment), error=_error(result))
        events = newest_first([self._event(e) for e in shipment.get("status") or () if isinstance(e, dict)])
        status, sub = (events[0].status, events[0].substatus) if events else (S.UNKNOWN, None)
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=None if status.is_terminal else _forecast(shipment.get("deliveryForecast")),
            tracking_url=str(shipment.get("trackingLink") or ""),
            raw=dict(shipment),
        )

    def _event(self, event: Mapping[str, Any]) -> TrackingEvent:
        unit = event.get("scanningUnit") or {}
        country = alpha2(unit.get("countryCode"))
        description = str(event.get("description") or "")
        status, sub = map_status(event.get("code"), description)
        return TrackingEvent(
            # Hermes sends the local offset ("+01:00"): it is kept, never replaced by UTC.
            occurred_at=parse_iso(str(event["timestamp"]), zone=zone_for(country=country or "DE")),
            status=status, code=event.get("code") or None, description=description,
            location=", ".join(x for x in (unit.get("city"), country) if x) or None, substatus=sub, country=country)


class _PasswordGrant(OAuthClient):
    """A password-grant token belongs to the user, not only to the client: the user is part of the cache key."""

    def cache_key(self, base_url: str) -> str:
        return super().cache_key(base_url + "\x00" + self.extra.get("username", "") + "\x00" + self.extra.get("password", ""))


def _error(result: Mapping[str, Any]) -> TrackingError:
    code = str(result.get("code") or "")
    message = str(result.get("message") or code or "error")
    kind = RESULT_ERRORS.get(code.lower())
    if kind is None:
        kind = TrackingErrorCode.INVALID_NUMBER if "invalid" in message.lower() else TrackingErrorCode.BAD_RESPONSE
    return TrackingError(code=kind, message=message)


def _forecast(forecast: Any) -> EstimatedDelivery | None:
    """A day, or a time slot on that day (German local time)."""
    if not isinstance(forecast, dict) or not forecast.get("date"):
        return None
    try:
        day: date = parse_date(str(forecast["date"]))
    except ValueError:
        return None
    slot = forecast.get("timeSlot") or {}
    zone = zone_for(country="DE")
    try:
        start = time.fromisoformat(str(slot["from"])) if slot.get("from") else None
        end = time.fromisoformat(str(slot["to"])) if slot.get("to") else None
    except ValueError:
        start = end = None
    if start and end:
        return EstimatedDelivery(earliest=datetime.combine(day, start, tzinfo=zone),
                                 latest=datetime.combine(day, end, tzinfo=zone))
    return EstimatedDelivery(earliest=day, latest=day)
