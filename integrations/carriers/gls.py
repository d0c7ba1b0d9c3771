"""GLS Track and Trace v1 (OAuth client credentials, up to 10 parcel numbers per call)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, ClassVar, Mapping

from integrations.carriers.adapter import HttpCarrier, Mapped, json_object, match_text, text_rules
from integrations.carriers.base import (
    Quota,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from integrations.carriers.localtime import parse_iso, zone_for
from integrations.status import DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `parcels[].status`: the documented, closed list of a parcel's current status.
PARCEL_STATUSES: dict[str, Mapped | None] = {
    "PLANNEDPICKUP": (S.LABEL_CREATED, None),  # GLS will collect it from the sender
    "INPICKUP": (S.LABEL_CREATED, None),  # a driver is on the way to the sender
    "NOTPICKEDUP": (S.LABEL_CREATED, None),  # the sender's pickup failed: still not in the network
    "PREADVICE": (S.LABEL_CREATED, None),  # data received, no parcel yet
    "INTRANSIT": (S.IN_TRANSIT, None),
    "INWAREHOUSE": (S.IN_TRANSIT, None),  # held in a GLS warehouse
    "INDELIVERY": (S.OUT_FOR_DELIVERY, None),
    # "Delivered to a parcel shop": for the shopper it waits there to be collected.
    "DELIVEREDPS": (S.READY_FOR_PICKUP, None),
    "DELIVERED": (S.DELIVERED, None),
    "NOTDELIVERED": (S.FAILED_ATTEMPT, None),
    "CANCELED": (S.EXCEPTION, ExceptionReason.OTHER.value),
    "FINAL": None,  # "parcel history closed": says nothing about how; the events decide
}

# `events[].code`: "FAMILY.DETAIL". Exact codes first, then the family.
EVENT_CODES: dict[str, Mapped] = {
    "INTIAL.PREADVICE": (S.LABEL_CREATED, None),  # (sic) data entered, parcel not handed over yet
    "INTIAL.E48_DATA": (S.LABEL_CREATED, None),  # provided by the sender for collection by GLS
    "INTIAL.NORMAL": (S.IN_TRANSIT, None),  # handed over to GLS
    "DELIVD.PARCELSHOP": (S.READY_FOR_PICKUP, None),  # delivered at the ParcelShop, to be collected
}
EVENT_FAMILIES: dict[str, Mapped] = {
    "DELIVD": (S.DELIVERED, None),
}

DELIVERED_TEXT = text_rules(
    (r"parcel ?shop|paketshop", S.READY_FOR_PICKUP, None),
    (r"neighbou?r|nachbar", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"deposit|safe place|ablage", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
    (r"locker|parcel ?station|packstation", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
)
FAILED_TEXT = text_rules(
    (r"address|adresse", S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    (r"refus|verweiger", S.EXCEPTION, ExceptionReason.REFUSED.value),
)
_REFINE = {S.DELIVERED: DELIVERED_TEXT, S.FAILED_ATTEMPT: FAILED_TEXT}

PARCEL_ERRORS: dict[str, str] = {
    "E_400_01": TrackingErrorCode.INVALID_NUMBER,  # bad request (malformed number)
    "E_400_02": TrackingErrorCode.BAD_RESPONSE,  # more than 10 numbers: our bug, not the number's
    "E_400_03": TrackingErrorCode.INVALID_NUMBER,  # wrong postal code
    "E_404_01": TrackingErrorCode.NOT_FOUND,
    "E_404_02": TrackingErrorCode.NOT_FOUND,  # no delivery info
    "E_500_01": TrackingErrorCode.CARRIER_DOWN,
}
_HTTP_ERRORS = {400: TrackingErrorCode.INVALID_NUMBER, 401: TrackingErrorCode.AUTH, 403: TrackingErrorCode.AUTH,
                404: TrackingErrorCode.NOT_FOUND, 429: TrackingErrorCode.RATE_LIMITED}


def map_event(code: str | None, text: str) -> Mapped:
    key = (code or "").upper()
    mapped = EVENT_CODES.get(key) or EVENT_FAMILIES.get(key.split(".", 1)[0])
    if mapped is None:
        return S.UNKNOWN, None
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


class Gls(HttpCarrier):
    code: ClassVar[str] = "gls"
    name: ClassVar[str] = "GLS"
    batch_size: ClassVar[int] = 10  # the documented maximum of ids per call
    quota: ClassVar[Quota] = Quota(per_second=1, per_day=500)  # GLS's default: 500 requests a day per app
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    DEFAULT_BASE_URL: ClassVar[str] = "https://api.gls-group.net"
    TRACKING_URL: ClassVar[str] = "https://gls-group.com/DE/en/parcel-tracking?match={number}"
    TOKEN_PATH: ClassVar[str] = "/oauth2/v2/token"
    language: ClassVar[str] = "EN"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request(
            "GET", f"/track-and-trace-v1/tracking/simple/trackids/{','.join(batch)}",
            headers={"Accept": "application/json", "Accept-Language": self.language}, oauth=self._oauth())
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a GLS tracking body")
        if isinstance(data.get("parcels"), list):
            return [self._parcel(p) for p in data["parcels"] if isinstance(p, dict)]
        if isinstance(data.get("fault"), dict):  # the API gateway's own errors (token, quota)
            fault = data["fault"]
            code = str((fault.get("detail") or {}).get("errorcode") or "")
            kind = TrackingErrorCode.RATE_LIMITED if "ratelimit" in code.lower() or "quota" in code.lower() \
                else TrackingErrorCode.AUTH if any(k in code.lower() for k in ("jwt", "oauth", "token", "auth")) \
                else TrackingErrorCode.BAD_RESPONSE
            return [TrackingResult(tracking_number="", raw=data, error=TrackingError(
                code=kind, message=str(fault.get("faultstring") or code or "gateway error")))]
        if "status" in data and ("title" in data or "detail" in data):
            try:
                http = int(data.get("status") or 0)
            except (TypeError, ValueError):
                http = 0
            kind = _HTTP_ERRORS.get(http, TrackingErrorCode.CARRIER_DOWN if http >= 500 else TrackingErrorCode.BAD_RESPONSE)
            message = " - ".join(str(x) for x in (data.get("title"), data.get("detail")) if x) or "error"
            return [TrackingResult(tracking_number="", raw=data, error=TrackingError(code=kind, message=message))]
        raise ValueError("not a GLS tracking body: neither `parcels` nor an error report")

    def _parcel(self, parcel: Mapping[str, Any]) -> TrackingResult:
        number = str(parcel.get("requested") or parcel.get("unitno") or "")
        if parcel.get("errorCode"):
            code = str(parcel["errorCode"])
            return TrackingResult(tracking_number=number, raw=dict(parcel), error=TrackingError(
                code=PARCEL_ERRORS.get(code, TrackingErrorCode.BAD_RESPONSE),
                message=str(parcel.get("errorMessage") or code)))
        parcel_status = PARCEL_STATUSES.get(str(parcel.get("status") or "").upper(), (S.UNKNOWN, None))
        status_at = _maybe_time(parcel.get("statusDateTime"))
        events = newest_first([self._event(e, parcel_status=parcel_status, status_at=status_at)
                               for e in parcel.get("events") or () if isinstance(e, dict)])
        if parcel_status is not None and parcel_status[0] is not S.UNKNOWN:
            status, sub = parcel_status
            refined = match_text(events[0].description if events else "", _REFINE.get(status, ()))
            status, sub = refined if refined else (status, sub)
        elif events:
            status, sub = events[0].status, events[0].substatus
        else:
            status, sub = S.UNKNOWN, None
        unitno = str(parcel.get("unitno") or number)
        return self._tracked(
            number, status, sub, events,
            tracking_url=self.tracking_url(unitno),
            pickup_location=events[0].location if status is S.READY_FOR_PICKUP and events else None,
            raw=dict(parcel),
        )

    def _event(self, event: Mapping[str, Any], *, parcel_status: Mapped | None,
               status_at: datetime | None) -> TrackingEvent:
        country = str(event.get("country") or "") or None
        occurred = parse_iso(str(event["eventDateTime"]), zone=zone_for(country=country))
        description = str(event.get("description") or "")
        status, sub = map_event(event.get("code"), description)
        if status is S.UNKNOWN and parcel_status and status_at and abs(occurred - status_at) <= timedelta(minutes=1):
            # An event code we have no row for, but it is the scan that set the parcel's documented status.
            status, sub = parcel_status
        place = " ".join(x for x in (str(event.get("postalCode") or ""), str(event.get("city") or "")) if x)
        return TrackingEvent(occurred_at=occurred, status=status, code=event.get("code") or None,
                             description=description, location=", ".join(x for x in (place, country) if x) or None,
                             substatus=sub, country=country)


def _maybe_time(value: Any) -> datetime | None:
    try:
        return parse_iso(str(value)) if value else None
    except ValueError:
        return None
