"""UPS Track API v1 (OAuth client credentials, GET /api/track/v1/details/{inquiryNumber})."""
from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timezone
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
from integrations.carriers.localtime import attach_zone, fixed_offset, parse_date, zone_for
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `status.type` of an activity / currentStatus: UPS's documented one-letter status types.
STATUS_TYPES: dict[str, Mapped] = {
    "M": (S.LABEL_CREATED, None),  # billing information received (label created)
    "MV": (S.EXCEPTION, ExceptionReason.OTHER.value),  # billing information voided (label cancelled)
    "P": (S.IN_TRANSIT, None),  # pickup
    "I": (S.IN_TRANSIT, None),  # in transit
    "W": (S.IN_TRANSIT, None),  # warehousing
    "DO": (S.IN_TRANSIT, None),  # delivered to the origin freight station: still travelling
    "DD": (S.IN_TRANSIT, None),  # delivered to the destination freight station: final delivery pending
    "O": (S.OUT_FOR_DELIVERY, None),
    "D": (S.DELIVERED, None),
    "X": (S.EXCEPTION, ExceptionReason.OTHER.value),
    "RS": (S.RETURNED_TO_SENDER, None),
    "NA": (S.UNKNOWN, None),  # not available
}
# `status.statusCode` (three digits), used only when the type is missing or unknown.
STATUS_CODES: dict[str, Mapped] = {
    "003": (S.LABEL_CREATED, None),  # order processed: ready for UPS
    "005": (S.IN_TRANSIT, None),
}

IN_TRANSIT_TEXT = text_rules(
    (r"out for delivery", S.OUT_FOR_DELIVERY, None),
    (r"access point.*(?:await|pick ?up)|ready for (?:customer )?pick ?up|available for pick ?up",
     S.READY_FOR_PICKUP, None),
    (r"\bdelay", S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),
)
# UPS reports failed attempts, address problems and returns as type X: the text tells them apart.
EXCEPTION_TEXT = text_rules(
    (r"not available|not home|business (?:was )?closed|attempt", S.FAILED_ATTEMPT, None),
    (r"return(?:ed|ing)? to (?:the )?(?:sender|shipper)", S.RETURNED_TO_SENDER, None),
    (r"address", S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    (r"customs|clearance|brokerage", S.EXCEPTION, ExceptionReason.CUSTOMS.value),
    (r"damage", S.EXCEPTION, ExceptionReason.DAMAGED.value),
    (r"refus", S.EXCEPTION, ExceptionReason.REFUSED.value),
    (r"weather|storm|snow|flood|hurricane", S.EXCEPTION, ExceptionReason.WEATHER.value),
    (r"\blost\b|cannot be located", S.EXCEPTION, ExceptionReason.LOST.value),
    (r"\bdelay|running late|mechanical", S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),
)
DELIVERED_TEXT = text_rules(
    (r"access point.*(?:await|pick ?up)|awaiting (?:customer )?pick ?up", S.READY_FOR_PICKUP, None),
    (r"neighbou?r", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"access point", S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),
    (r"locker", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
    (r"mail ?box|mail ?room|letterbox", S.DELIVERED, DeliveredTo.MAILBOX.value),
    (r"front door|porch|back door|side door|garage|safe place", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
)
_REFINE = {S.IN_TRANSIT: IN_TRANSIT_TEXT, S.EXCEPTION: EXCEPTION_TEXT, S.DELIVERED: DELIVERED_TEXT}

ERROR_CODES: dict[str, str] = {
    "TV1002": TrackingErrorCode.INVALID_NUMBER,  # invalid inquiry number
    "TW0001": TrackingErrorCode.NOT_FOUND,  # tracking information not found
    "250002": TrackingErrorCode.AUTH,
    "250003": TrackingErrorCode.AUTH,  # invalid access license / credentials
}


def map_status(status: Mapping[str, Any] | None, *, extra_text: str = "") -> Mapped:
    if not status:
        return S.UNKNOWN, None
    mapped = STATUS_TYPES.get(str(status.get("type") or "")) or STATUS_CODES.get(str(status.get("statusCode") or ""))
    if mapped is None:
        return S.UNKNOWN, None
    text = " ".join(str(status.get(k) or "") for k in ("description",)) + " " + extra_text
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


def _error_code(code: str, message: str) -> str:
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    lowered = message.lower()
    if "not found" in lowered:
        return TrackingErrorCode.NOT_FOUND
    if "invalid" in lowered and ("inquiry" in lowered or "tracking" in lowered):
        return TrackingErrorCode.INVALID_NUMBER
    return TrackingErrorCode.BAD_RESPONSE


class Ups(HttpCarrier):
    code: ClassVar[str] = "ups"
    name: ClassVar[str] = "UPS"
    batch_size: ClassVar[int] = 1  # the v1 details endpoint takes one inquiry number
    quota: ClassVar[Quota] = Quota(per_second=5)  # conservative: UPS throttles per application, undocumented
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    DEFAULT_BASE_URL: ClassVar[str] = "https://onlinetools.ups.com"
    TRACKING_URL: ClassVar[str] = "https://www.ups.com/track?loc=en_US&tracknum={number}"

    OAUTH_STYLE: ClassVar[str] = "basic"
    TOKEN_PATH: ClassVar[str] = "/security/v1/oauth/token"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request(
            "GET", f"/api/track/v1/details/{batch[0]}",
            params={"locale": "en_US", "returnSignature": "false", "returnMilestones": "false",
                    "returnPOD": "false"},
            headers={"transId": uuid.uuid4().hex[:32], "transactionSrc": "parcelwise", "Accept": "application/json"},
            oauth=self._oauth())
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a UPS tracking body")
        if isinstance(data.get("trackResponse"), dict):
            shipments = data["trackResponse"].get("shipment") or []
            return [self._shipment(s) for s in shipments if isinstance(s, dict)]
        errors = (data.get("response") or {}).get("errors") if isinstance(data.get("response"), dict) else None
        if isinstance(errors, list) and errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            code, message = str(first.get("code") or ""), str(first.get("message") or "error")
            return [TrackingResult(tracking_number="", raw=data,
                                   error=TrackingError(code=_error_code(code, message), message=message))]
        raise ValueError("not a UPS tracking body: neither `trackResponse` nor `response.errors`")

    def _shipment(self, shipment: Mapping[str, Any]) -> TrackingResult:
        number = str(shipment.get("inquiryNumber") or "")
        packages = [p for p in shipment.get("package") or () if isinstance(p, dict)]
        if not packages:
            warning = next((w for w in shipment.get("warnings") or () if isinstance(w, dict)), {})
            code, message = str(warning.get("code") or ""), str(warning.get("message") or "no package data")
            return TrackingResult(tracking_number=number, raw=dict(shipment), error=TrackingError(
                code=_error_code(code, message) if code or message else TrackingErrorCode.NOT_FOUND,
                message=message))
        package = next((p for p in packages if p.get("trackingNumber") == number), packages[0])
        number = number or str(package.get("trackingNumber") or "")
        events = newest_first([self._event(a) for a in package.get("activity") or () if isinstance(a, dict)])
        delivery_location = str((package.get("deliveryInformation") or {}).get("location") or "")
        if package.get("currentStatus"):
            status, sub = map_status(package["currentStatus"], extra_text=delivery_location)
        elif events:
            status, sub = events[0].status, events[0].substatus
        else:
            status, sub = S.UNKNOWN, None
        access_point = package.get("accessPointInformation") or {}
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=_estimate(package),
            service=(package.get("service") or {}).get("description") or None,
            pickup_deadline=_maybe_date(access_point.get("pickupByDate")),
            raw=dict(shipment),
        )

    def _event(self, activity: Mapping[str, Any]) -> TrackingEvent:
        address = ((activity.get("location") or {}).get("address") or {})
        country = address.get("countryCode") or address.get("country") or None
        status_node = activity.get("status") or {}
        status, sub = map_status(status_node)
        return TrackingEvent(
            occurred_at=_activity_time(activity, country=country, state=address.get("stateProvince")),
            status=status,
            code=status_node.get("code") or status_node.get("statusCode") or status_node.get("type"),
            description=str(status_node.get("description") or ""),
            location=", ".join(x for x in (address.get("city"), address.get("stateProvince"), country) if x) or None,
            substatus=sub,
            country=country,
        )


def _activity_time(activity: Mapping[str, Any], *, country: str | None, state: str | None) -> datetime:
    """UPS gives local date/time and, in newer responses, gmtDate/gmtTime/gmtOffset: the latter is exact."""
    gmt_date, gmt_time, gmt_offset = activity.get("gmtDate"), activity.get("gmtTime"), activity.get("gmtOffset")
    if gmt_date and gmt_time and gmt_offset:
        day = parse_date(str(gmt_date))
        hh, mm, ss = _hms(str(gmt_time))
        moment = datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=timezone.utc)
        return moment.astimezone(fixed_offset(str(gmt_offset)))
    day = parse_date(str(activity["date"]))
    hh, mm, ss = _hms(str(activity.get("time") or "000000"))
    # No offset given: the local time of the scan's place (state for the US), UTC when that is unknowable.
    return attach_zone(datetime(day.year, day.month, day.day, hh, mm, ss), zone=zone_for(country=country, state=state))


def _hms(value: str) -> tuple[int, int, int]:
    digits = value.replace(":", "").strip().ljust(6, "0")
    return int(digits[0:2]), int(digits[2:4]), int(digits[4:6])


def _maybe_date(value: Any) -> date | None:
    try:
        return parse_date(str(value)) if value else None
    except ValueError:
        return None  # UPS's documentation examples carry "string" placeholders


def _estimate(package: Mapping[str, Any]) -> EstimatedDelivery | None:
    by_type = {str(d.get("type")): _maybe_date(d.get("date")) for d in package.get("deliveryDate") or ()
               if isinstance(d, dict)}
    # RDD: rescheduled, SDD: scheduled; DEL is the actual delivery date, not an estimate.
    day = by_type.get("RDD") or by_type.get("SDD")
    return EstimatedDelivery(earliest=day, latest=day) if day else None
