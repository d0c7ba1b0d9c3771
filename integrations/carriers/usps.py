"""USPS Tracking v3 (OAuth client credentials, GET /tracking/v3/tracking/{number}?expand=DETAIL)."""
from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timezone
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
from integrations.carriers.localtime import fixed_offset, parse_date, parse_iso, zone_for
from integrations.status import DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus
ADDRESS = ExceptionReason.ADDRESS_ISSUE.value

# USPS Product Tracking & Reporting event codes (`eventCode`).
EVENT_CODES: dict[str, Mapped] = {
    "GX": (S.LABEL_CREATED, None),  # shipping label created, USPS awaiting item
    "MA": (S.LABEL_CREATED, None),  # pre-shipment info sent to USPS
    "03": (S.IN_TRANSIT, None),  # accepted: USPS in possession of item
    "OA": (S.IN_TRANSIT, None),  # accepted at USPS origin facility
    "SF": (S.IN_TRANSIT, None),  # departed post office
    "10": (S.IN_TRANSIT, None),  # arrived at / processed through USPS facility
    "A1": (S.IN_TRANSIT, None),  # arrived at USPS regional facility
    "L1": (S.IN_TRANSIT, None),  # departed USPS facility
    "T1": (S.IN_TRANSIT, None),  # departed USPS regional facility
    "TL": (S.IN_TRANSIT, None),  # in transit to next facility
    "U1": (S.IN_TRANSIT, None),  # in transit
    "07": (S.IN_TRANSIT, None),  # arrived at post office (arrival at unit)
    "OF": (S.OUT_FOR_DELIVERY, None),
    "14": (S.READY_FOR_PICKUP, None),  # arrival at pickup point
    "16": (S.READY_FOR_PICKUP, None),  # available for pickup
    "01": (S.DELIVERED, None),  # refined by the event text (mailbox, parcel locker, porch...)
    "17": (S.DELIVERED, None),  # picked up by agent
    "43": (S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),  # picked up at the post office
    "02": (S.FAILED_ATTEMPT, None),  # notice left
    "52": (S.FAILED_ATTEMPT, None),  # notice left: receptacle full / item oversized
    "53": (S.FAILED_ATTEMPT, None),  # notice left: receptacle blocked
    "54": (S.FAILED_ATTEMPT, None),  # notice left: receptacle full
    "55": (S.FAILED_ATTEMPT, None),  # notice left: no secure location
    "56": (S.FAILED_ATTEMPT, None),  # notice left: no authorized recipient
    "57": (S.FAILED_ATTEMPT, None),  # delivery attempted: no access to delivery location
    "04": (S.EXCEPTION, ExceptionReason.REFUSED.value),
    "05": (S.EXCEPTION, ADDRESS),  # undeliverable as addressed
    "21": (S.EXCEPTION, ADDRESS),  # no such number
    "22": (S.EXCEPTION, ADDRESS),  # insufficient address
    "23": (S.EXCEPTION, ADDRESS),  # moved, left no address
    "24": (S.EXCEPTION, ADDRESS),  # forward expired
    "25": (S.EXCEPTION, ADDRESS),  # addressee unknown
    "26": (S.EXCEPTION, ADDRESS),  # vacant
    "09": (S.RETURNED_TO_SENDER, None),
    "27": (S.RETURNED_TO_SENDER, None),  # unclaimed, being returned
    "29": (S.RETURNED_TO_SENDER, None),  # returned: not picked up
    "31": (S.RETURNED_TO_SENDER, None),
}

# `statusCategory` of the whole piece, used when the newest event's code is not in the table.
STATUS_CATEGORIES: dict[str, Mapped] = {
    "pre-shipment": (S.LABEL_CREATED, None),
    "accepted": (S.IN_TRANSIT, None),
    "in transit": (S.IN_TRANSIT, None),
    "out for delivery": (S.OUT_FOR_DELIVERY, None),
    "available for pickup": (S.READY_FOR_PICKUP, None),
    "delivered": (S.DELIVERED, None),
    "delivery attempt": (S.FAILED_ATTEMPT, None),
    "return to sender": (S.RETURNED_TO_SENDER, None),
    "alert": (S.EXCEPTION, ExceptionReason.OTHER.value),
}

DELIVERED_TEXT = text_rules(
    (r"parcel locker|locker", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
    (r"mailbox|mail room|po box|receptacle", S.DELIVERED, DeliveredTo.MAILBOX.value),
    (r"front door|porch|garage|back door|side door|other secure location", S.DELIVERED,
     DeliveredTo.SAFE_PLACE.value),
    (r"neighbou?r", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"left with individual", S.DELIVERED, DeliveredTo.RECIPIENT.value),
    (r"picked up at (?:the )?post office", S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),
)
# Only for the old summary shape, which carries no code at all.
SUMMARY_TEXT = text_rules(
    (r"was delivered", S.DELIVERED, None),
    (r"out for delivery", S.OUT_FOR_DELIVERY, None),
    (r"available for pick ?up", S.READY_FOR_PICKUP, None),
    (r"notice (?:was )?left|attempted to deliver", S.FAILED_ATTEMPT, None),
    (r"return(?:ed|ing)? to (?:the )?sender", S.RETURNED_TO_SENDER, None),
    (r"in possession|accepted|in transit|arrived|departed", S.IN_TRANSIT, None),
    (r"label (?:was )?created|awaiting item|pre-shipment", S.LABEL_CREATED, None),
)


def map_event(code: str | None, text: str = "") -> Mapped:
    mapped = EVENT_CODES.get(code or "")
    if mapped is None:
        return S.UNKNOWN, None
    if mapped[0] is S.DELIVERED and mapped[1] is None:
        refined = match_text(text, DELIVERED_TEXT)
        if refined:
            return refined
    return mapped


class Usps(HttpCarrier):
    code: ClassVar[str] = "usps"
    name: ClassVar[str] = "USPS"
    batch_size: ClassVar[int] = 1
    # USPS's default allowance for a new app is 60 calls per hour.
    quota: ClassVar[Quota] = Quota(per_second=1 / 60, per_day=1440)
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    DEFAULT_BASE_URL: ClassVar[str] = "https://apis.usps.com"
    TRACKING_URL: ClassVar[str] = "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"

    OAUTH_STYLE: ClassVar[str] = "json"
    TOKEN_PATH: ClassVar[str] = "/oauth2/v3/token"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request("GET", f"/tracking/v3/tracking/{batch[0]}", params={"expand": "DETAIL"},
                                          headers={"Accept": "application/json"}, oauth=self._oauth())
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a USPS tracking body")
        if "trackingNumber" in data and ("trackingEvents" in data or "statusCategory" in data):
            return [self._detail(data)]
        if isinstance(data.get("TrackResults"), dict):
            return [self._summary(data["TrackResults"])]
        if isinstance(data.get("error"), dict):
            return [self._api_error(data["error"], data)]
        if isinstance(data.get("error"), str):  # OAuth error shape
            message = str(data.get("error_description") or data["error"])
            return [TrackingResult(tracking_number="", raw=data,
                                   error=TrackingError(code=TrackingErrorCode.AUTH, message=message))]
        raise ValueError("not a USPS tracking body: no tracking data and no error")

    def _api_error(self, error: Mapping[str, Any], data: Mapping[str, Any]) -> TrackingResult:
        parts = [str(error.get("code") or ""), str(error.get("message") or "")]
        for item in error.get("errors") or ():
            if isinstance(item, dict):
                parts += [str(item.get("title") or ""), str(item.get("detail") or "")]
        text = " ".join(p for p in parts if p)
        lowered = text.lower()
        if "not found" in lowered or "not available" in lowered:
            kind = TrackingErrorCode.NOT_FOUND
        elif "invalid" in lowered:
            kind = TrackingErrorCode.INVALID_NUMBER
        elif "unauthori" in lowered or "token" in lowered:
            kind = TrackingErrorCode.AUTH
        else:
            kind = TrackingErrorCode.BAD_RESPONSE
        return TrackingResult(tracking_number="", raw=dict(data),
                              error=TrackingError(code=kind, message=text[:300] or "error"))

    def _detail(self, data: Mapping[str, Any]) -> TrackingResult:
        number = str(data.get("trackingNumber") or "")
        events = newest_first([self._event(e) for e in data.get("trackingEvents") or () if isinstance(e, dict)])
        if events and events[0].status is not S.UNKNOWN:
            status, sub = events[0].status, events[0].substatus
        else:
            mapped = STATUS_CATEGORIES.get(str(data.get("statusCategory") or "").strip().lower())
            status, sub = mapped if mapped else (S.UNKNOWN, None)
            if status is S.DELIVERED:
                refined = match_text(str(data.get("status") or ""), DELIVERED_TEXT)
                sub = refined[1] if refined else None
        estimate = None
        expected = data.get("expectedDeliveryDate") or data.get("expectedDeliveryTimeStamp")
        if expected:
            try:
                day = parse_date(str(expected))
                estimate = EstimatedDelivery(earliest=day, latest=day)
            except ValueError:
                estimate = None
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=estimate,
            service=_strip_markup(data.get("mailClass")),
            raw=dict(data),
        )

    def _summary(self, results: Mapping[str, Any]) -> TrackingResult:
        info = results.get("TrackInfo") or {}
        number = str(info.get("@ID") or "")
        text = str(info.get("TrackSummary") or "")
        mapped = match_text(text, SUMMARY_TEXT)
        status, sub = mapped if mapped else (S.UNKNOWN, None)
        if status is S.DELIVERED:
            refined = match_text(text, DELIVERED_TEXT)
            sub = refined[1] if refined else None
        return self._tracked(number, status, sub, raw=dict(results))

    def _event(self, event: Mapping[str, Any]) -> TrackingEvent:
        text = str(event.get("eventType") or "")
        status, sub = map_event(event.get("eventCode"), text)
        country = event.get("eventCountry") or None
        return TrackingEvent(
            occurred_at=_event_time(event),
            status=status,
            code=event.get("eventCode"),
            description=text,
            location=" ".join(x for x in (event.get("eventCity"), event.get("eventState"), event.get("eventZIP"),
                                          country) if x) or None,
            substatus=sub,
            country=country or ("US" if event.get("eventState") else None),
        )


def _event_time(event: Mapping[str, Any]) -> datetime:
    """`GMTTimestamp` + `GMTOffset` are exact. `eventTimestamp` alone is the local wall-clock time of the scan,
    sometimes wrongly suffixed with "Z" (USPS's own example says 7:31 am in Virginia and writes 07:31:00Z), so its
    suffix is ignored and the zone of the event's state is attached."""
    gmt, offset = event.get("GMTTimestamp"), event.get("GMTOffset")
    if gmt and offset:
        return parse_iso(str(gmt), zone=timezone.utc).astimezone(fixed_offset(str(offset)))
    if not event.get("eventTimestamp"):
        raise ValueError("USPS event without eventTimestamp")
    local = str(event["eventTimestamp"])
    if offset:
        return parse_iso(local, ignore_offset=True).replace(tzinfo=fixed_offset(str(offset)))
    return parse_iso(local, zone=zone_for(country=event.get("eventCountry") or "US", state=event.get("eventState")),
                     ignore_offset=True)


def _strip_markup(value: Any) -> str | None:
    if not value:
        return None
    return html.unescape(re.sub(r"<[^>]+>", "", str(value))).strip() or None
