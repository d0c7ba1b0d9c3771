"""DHL Shipment Tracking - Unified (GET /track/shipments): Paket, Express, eCommerce and Deutsche Post."""
from __future__ import annotations

import logging
from typing import Any, ClassVar, Mapping

from integrations.carriers.adapter import HttpCarrier, json_object, match_text, text_rules
from integrations.carriers.base import (
    EstimatedDelivery,
    Quota,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from integrations.carriers.localtime import parse_iso, zone_for
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# DHL's `statusCode` is coarse (five values); it is the code, and it decides the family of the status.
STATUS_CODES: dict[str, tuple[ShipmentStatus, str | None]] = {
    "pre-transit": (S.LABEL_CREATED, None),
    "transit": (S.IN_TRANSIT, None),
    "delivered": (S.DELIVERED, None),
    "failure": (S.EXCEPTION, ExceptionReason.OTHER.value),
    "unknown": (S.UNKNOWN, None),
}

# Within a family, DHL's text refines what the code cannot say. Out-for-delivery exists ONLY as text in this API.
TRANSIT_TEXT = text_rules(
    (r"out for delivery|loaded onto the delivery vehicle|with (?:the )?courier for delivery|in zustellung"
     r"|zustellfahrzeug|wird (?:heute )?zugestellt", S.OUT_FOR_DELIVERY, None),
    (r"ready for (?:pick-?up|collection)|available for (?:pick-?up|collection)|zur abholung bereit"
     r"|can be (?:picked up|collected)|awaiting collection", S.READY_FOR_PICKUP, None),
    (r"delivery attempt|could not be delivered|not (?:at home|available)|nicht angetroffen"
     r"|nicht zugestellt werden", S.FAILED_ATTEMPT, None),
    (r"return(?:ed)? to (?:the )?sender|returned to shipper|rücksendung|zurück an den absender",
     S.RETURNED_TO_SENDER, None),
    (r"\bdelay|verzögerung|verspät", S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),
)
FAILURE_TEXT = text_rules(
    (r"delivery attempt|could not be delivered|not (?:at home|available)|nicht angetroffen"
     r"|nicht zugestellt werden", S.FAILED_ATTEMPT, None),
    (r"return(?:ed)? to (?:the )?sender|returned to shipper|rücksendung|zurück an den absender",
     S.RETURNED_TO_SENDER, None),
    (r"address|adresse|anschrift", S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    (r"customs|zoll", S.EXCEPTION, ExceptionReason.CUSTOMS.value),
    (r"damaged|beschädigt", S.EXCEPTION, ExceptionReason.DAMAGED.value),
    (r"refused|verweigert", S.EXCEPTION, ExceptionReason.REFUSED.value),
    (r"weather|wetter|unwetter", S.EXCEPTION, ExceptionReason.WEATHER.value),
    (r"\blost\b|verloren", S.EXCEPTION, ExceptionReason.LOST.value),
)
DELIVERED_TEXT = text_rules(
    # "delivered to the Packstation, ready for pick-up" is, for the shopper, not delivered yet.
    (r"ready for (?:pick-?up|collection)|available for (?:pick-?up|collection)|zur abholung bereit",
     S.READY_FOR_PICKUP, None),
    (r"neighbou?r|nachbar", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"packstation|parcel locker|locker|paketkasten", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
    (r"parcel ?shop|retail outlet|post office|service ?point|filiale|paketshop|postfiliale", S.DELIVERED,
     DeliveredTo.PARCEL_SHOP.value),
    (r"mailbox|letterbox|letter box|briefkasten", S.DELIVERED, DeliveredTo.MAILBOX.value),
    (r"safe ?place|ablageort|drop-off location", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
)
_REFINE = {S.IN_TRANSIT: TRANSIT_TEXT, S.EXCEPTION: FAILURE_TEXT, S.DELIVERED: DELIVERED_TEXT}

PROBLEM_STATUS_ERRORS: dict[int, str] = {
    400: TrackingErrorCode.INVALID_NUMBER,
    401: TrackingErrorCode.AUTH,
    403: TrackingErrorCode.AUTH,
    404: TrackingErrorCode.NOT_FOUND,
    429: TrackingErrorCode.RATE_LIMITED,
}


def map_status(code: str | None, text: str) -> tuple[ShipmentStatus, str | None]:
    """Code first; text only refines within the code's family; unmapped -> unknown."""
    if not code or code.lower() not in STATUS_CODES:
        return S.UNKNOWN, None
    status, sub = STATUS_CODES[code.lower()]
    refined = match_text(text, _REFINE.get(status, ()))
    return refined if refined else (status, sub)


class Dhl(HttpCarrier):
    code: ClassVar[str] = "dhl"
    name: ClassVar[str] = "DHL"
    batch_size: ClassVar[int] = 1  # the Unified API answers for one tracking number per call
    quota: ClassVar[Quota] = Quota(per_second=1, per_day=250)  # DHL's default for a new API key
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    DEFAULT_BASE_URL: ClassVar[str] = "https://api-eu.dhl.com"
    TRACKING_URL: ClassVar[str] = "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}&submit=1"

    language: ClassVar[str] = "en"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request(
            "GET", "/track/shipments", params={"trackingNumber": batch[0], "language": self.language},
            headers={"DHL-API-Key": self._credential("api_key"), "Accept": "application/json"})
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a DHL tracking body")
        if isinstance(data.get("shipments"), list):
            return [self._shipment(s) for s in data["shipments"] if isinstance(s, dict)]
        if "status" in data and ("title" in data or "detail" in data):
            return [self._problem(data)]
        raise ValueError("not a DHL tracking body: neither `shipments` nor a problem report")

    def _problem(self, data: Mapping[str, Any]) -> TrackingResult:
        try:
            http_status = int(data.get("status") or 0)
        except (TypeError, ValueError):
            http_status = 0
        code = PROBLEM_STATUS_ERRORS.get(http_status, TrackingErrorCode.CARRIER_DOWN if http_status >= 500
                                         else TrackingErrorCode.BAD_RESPONSE)
        instance = str(data.get("instance") or "")
        number = instance.rstrip("/").rsplit("/", 1)[-1] if instance.startswith("/shipment") else ""
        message = " - ".join(str(x) for x in (data.get("title"), data.get("detail")) if x)
        return TrackingResult(tracking_number=number, error=TrackingError(code=code, message=message or "error"),
                              raw=dict(data))

    def _shipment(self, shipment: Mapping[str, Any]) -> TrackingResult:
        number = str(shipment.get("id") or "")
        events = newest_first([self._event(e) for e in shipment.get("events") or () if isinstance(e, dict)])
        current = shipment.get("status")
        if isinstance(current, dict) and current.get("statusCode"):
            status, sub = map_status(current.get("statusCode"), _text(current))
        elif events:
            status, sub = events[0].status, events[0].substatus
        else:
            status, sub = S.UNKNOWN, None
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=_estimate(shipment),
            service=shipment.get("service") or None,
            raw=dict(shipment),
        )

    def _event(self, event: Mapping[str, Any]) -> TrackingEvent:
        address = ((event.get("location") or {}).get("address") or {})
        country = address.get("countryCode") or None
        # Events without an offset are the local time at the event's location (DHL's documented behaviour);
        # we attach that country's zone when it has only one, UTC otherwise (see localtime.attach_zone).
        occurred = parse_iso(str(event["timestamp"]), zone=zone_for(country=country))
        status, sub = map_status(event.get("statusCode"), _text(event))
        return TrackingEvent(
            occurred_at=occurred,
            status=status,
            code=event.get("statusCode"),
            description=" - ".join(x for x in (event.get("status"), event.get("description")) if x) or "",
            location=", ".join(x for x in (address.get("addressLocality"), country) if x) or None,
            substatus=sub,
            country=country,
        )


def _text(node: Mapping[str, Any]) -> str:
    return " ".join(str(node.get(k) or "") for k in ("status", "description", "remark"))


def _estimate(shipment: Mapping[str, Any]) -> EstimatedDelivery | None:
    frame = shipment.get("estimatedDeliveryTimeFrame") or {}
    if frame.get("estimatedFrom"):
        start = parse_iso(frame["estimatedFrom"])
        end = parse_iso(frame["estimatedThrough"]) if frame.get("estimatedThrough") else start
        return EstimatedDelivery(earliest=start, latest=end)
    if shipment.get("estimatedTimeOfDelivery"):
        moment = parse_iso(shipment["estimatedTimeOfDelivery"])
        return EstimatedDelivery(earliest=moment, latest=moment)
    return None
