"""Royal Mail Tracking API v2 (`GET /mailpieces/v2/{id}/events`, IBM client id and secret headers)."""
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
from integrations.carriers.localtime import fixed_offset, parse_date, parse_iso, zone_for
from integrations.status import DeliveredTo, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `events[].eventCode`: Royal Mail's EV... event codes.
EVENT_CODES: dict[str, Mapped] = {
    "EVAIP": (S.LABEL_CREATED, None),  # sender despatching item
    "EVDAV": (S.IN_TRANSIT, None),  # item received
    "EVNMI": (S.IN_TRANSIT, None),  # forwarded - mis-sort: re-routed to the right delivery office
    "EVKOP": (S.DELIVERED, None),  # delivered
    "EVKSP": (S.DELIVERED, None),  # delivered (signed for)
}
# `summary.statusCategory`: Royal Mail's category of the item's latest event.
STATUS_CATEGORIES: dict[str, Mapped] = {
    "PENDING": (S.LABEL_CREATED, None),
    "IN TRANSIT": (S.IN_TRANSIT, None),
    "OUT FOR DELIVERY": (S.OUT_FOR_DELIVERY, None),
    "READY FOR COLLECTION": (S.READY_FOR_PICKUP, None),
    "ATTEMPTED DELIVERY": (S.FAILED_ATTEMPT, None),
    "DELIVERED": (S.DELIVERED, None),
    "RETURNED": (S.RETURNED_TO_SENDER, None),
}
DELIVERED_TEXT = text_rules(
    (r"neighbou?r", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"safe ?place", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
    (r"parcel ?locker|locker", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
    (r"post office|local collect", S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),
)
_REFINE = {S.DELIVERED: DELIVERED_TEXT}

# Request errors that are our fault (headers, terms) must not mark the number invalid.
REQUEST_ERRORS = frozenset({"E0004", "E0005", "E0006", "E0007", "E0008", "E0009", "E0010"})
NOT_FOUND_ERRORS = frozenset({"E1142"})  # "barcode reference isn't recognised"
_HTTP_ERRORS = {400: TrackingErrorCode.INVALID_NUMBER, 401: TrackingErrorCode.AUTH, 403: TrackingErrorCode.AUTH,
                404: TrackingErrorCode.NOT_FOUND, 429: TrackingErrorCode.RATE_LIMITED}


def map_event(code: str | None, text: str) -> Mapped:
    mapped = EVENT_CODES.get((code or "").strip().upper())
    if mapped is None:
        return S.UNKNOWN, None
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


class RoyalMail(HttpCarrier):
    code: ClassVar[str] = "royalmail"
    name: ClassVar[str] = "Royal Mail"
    batch_size: ClassVar[int] = 1  # the events resource is per mail piece
    quota: ClassVar[Quota] = Quota(per_second=2)  # conservative; Royal Mail throttles per client id
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    DEFAULT_BASE_URL: ClassVar[str] = "https://api.royalmail.net"
    TRACKING_URL: ClassVar[str] = "https://www.royalmail.com/track-your-item#/tracking-results/{number}"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request("GET", f"/mailpieces/v2/{batch[0]}/events", headers={
            "X-IBM-Client-Id": self._credential("client_id"), "X-IBM-Client-Secret": self._credential("client_secret"),
            "X-Accept-RMG-Terms": "yes", "Accept": "application/json"})
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a Royal Mail body")
        if isinstance(data.get("mailPieces"), dict):
            return [self._piece(data["mailPieces"])]
        if "httpCode" in data or isinstance(data.get("errors"), list):
            return [TrackingResult(tracking_number="", raw=data, error=_error(data))]
        raise ValueError("not a Royal Mail body: neither `mailPieces` nor `errors`")

    def _piece(self, piece: Mapping[str, Any]) -> TrackingResult:
        summary = piece.get("summary") or {}
        number = str(summary.get("oneDBarcode") or piece.get("mailPieceId") or "")
        category = STATUS_CATEGORIES.get(str(summary.get("statusCategory") or "").upper())
        last_at = _maybe_time(summary.get("lastEventDateTime"))
        events = newest_first([self._event(e, category=category, last_at=last_at)
                               for e in piece.get("events") or () if isinstance(e, dict) and e.get("eventDateTime")])
        if events and events[0].status is not S.UNKNOWN:
            status, sub = events[0].status, events[0].substatus
        elif category is not None:
            status, sub = category
        else:
            status, sub = S.UNKNOWN, None
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=None if status.is_terminal else _estimate(piece.get("estimatedDelivery")),
            service=str(summary.get("productName") or "") or None,
            raw=dict(piece),
        )

    def _event(self, event: Mapping[str, Any], *, category: Mapped | None, last_at: datetime | None) -> TrackingEvent:
        occurred = parse_iso(str(event["eventDateTime"]), zone=zone_for(country="GB"))
        text = str(event.get("eventName") or "")
        status, sub = map_event(event.get("eventCode"), text)
        if status is S.UNKNOWN and category is not None and last_at is not None and occurred == last_at:
            status, sub = category  # Royal Mail's own category of exactly this (latest) event
        return TrackingEvent(occurred_at=occurred, status=status, code=event.get("eventCode") or None,
                             description=text, location=event.get("locationName") or None, substatus=sub,
                             country=alpha2(event.get("countryCode")) if event.get("countryCode") else None)


def _error(data: Mapping[str, Any]) -> TrackingError:
    errors = [e for e in data.get("errors") or () if isinstance(e, dict)]
    first = errors[0] if errors else {}
    code = str(first.get("errorCode") or "")
    message = " - ".join(str(x) for x in (code, first.get("errorDescription") or data.get("httpMessage")) if x)
    try:
        http = int(data.get("httpCode") or 0)
    except (TypeError, ValueError):
        http = 0
    if code in REQUEST_ERRORS:
        kind = TrackingErrorCode.BAD_RESPONSE
    elif code in NOT_FOUND_ERRORS:
        kind = TrackingErrorCode.NOT_FOUND
    else:
        kind = _HTTP_ERRORS.get(http, TrackingErrorCode.CARRIER_DOWN if http >= 500 else TrackingErrorCode.BAD_RESPONSE)
    return TrackingError(code=kind, message=message or "error")


def _maybe_time(value: Any) -> datetime | None:
    try:
        return parse_iso(str(value)) if value else None
    except ValueError:
        return None


def _estimate(node: Any) -> EstimatedDelivery | None:
    """A date with an optional window given as times with their offset ("08:00:00+01:00")."""
    if not isinstance(node, dict) or not node.get("date"):
        return None
    try:
        day = parse_date(str(node["date"]))
        start, end = node.get("startOfEstimatedWindow"), node.get("endOfEstimatedWindow")
        if start and end:
            return EstimatedDelivery(earliest=_at(day, str(start)), latest=_at(day, str(end)))
    except ValueError:
        return None
    return EstimatedDelivery(earliest=day, latest=day)


def _at(day: date, value: str) -> datetime:
    clock, sign, offset = value[:8], value[8:9], value[9:]
    moment = time.fromisoformat(clock)
    tz = fixed_offset(sign + offset) if sign in "+-" and offset else zone_for(country="GB")
    return datetime.combine(day, moment, tzinfo=tz)


