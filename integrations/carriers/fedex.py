"""FedEx Track API v1 (OAuth client credentials, POST /track/v1/trackingnumbers, 30 numbers per call)."""
from __future__ import annotations

import logging
from datetime import datetime
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
from integrations.carriers.localtime import parse_iso, zone_for
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# FedEx scan event types (`eventType`, `latestStatusDetail.code`) from FedEx's tracking status code list.
EVENT_CODES: dict[str, Mapped] = {
    "OC": (S.LABEL_CREATED, None),  # shipment information sent to FedEx
    "IN": (S.LABEL_CREATED, None),  # initiated
    "PU": (S.IN_TRANSIT, None),  # picked up
    "PX": (S.IN_TRANSIT, None),  # picked up (see details)
    "AR": (S.IN_TRANSIT, None),  # arrived at a FedEx location
    "AF": (S.IN_TRANSIT, None),  # at a FedEx facility
    "DP": (S.IN_TRANSIT, None),  # departed
    "LO": (S.IN_TRANSIT, None),  # left origin
    "IT": (S.IN_TRANSIT, None),  # in transit / on the way
    "AO": (S.IN_TRANSIT, None),  # shipment arriving on time
    "AE": (S.IN_TRANSIT, None),  # shipment arriving early
    "FD": (S.IN_TRANSIT, None),  # at FedEx destination facility
    "AA": (S.IN_TRANSIT, None),  # at airport
    "EA": (S.IN_TRANSIT, None),  # enroute to airport
    "PL": (S.IN_TRANSIT, None),  # plane landed
    "PF": (S.IN_TRANSIT, None),  # plane in flight
    "TR": (S.IN_TRANSIT, None),  # transfer
    "CC": (S.IN_TRANSIT, None),  # cleared customs
    "CP": (S.IN_TRANSIT, None),  # clearance in progress
    "OD": (S.OUT_FOR_DELIVERY, None),  # on FedEx vehicle for delivery
    "HP": (S.READY_FOR_PICKUP, None),  # ready for recipient pickup
    "HL": (S.READY_FOR_PICKUP, None),  # hold at location
    "DL": (S.DELIVERED, None),
    "DE": (S.EXCEPTION, ExceptionReason.OTHER.value),  # delivery exception: refined by its description
    "SE": (S.EXCEPTION, ExceptionReason.OTHER.value),  # shipment exception: refined by its description
    "CD": (S.EXCEPTION, ExceptionReason.CUSTOMS.value),  # clearance delay
    "DY": (S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),  # delay
    "DD": (S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),  # delivery delay
    "RL": (S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),  # derived: running late
    "RS": (S.RETURNED_TO_SENDER, None),  # return to shipper
    "CA": (S.EXCEPTION, ExceptionReason.OTHER.value),  # shipment cancelled
}

EXCEPTION_TEXT = text_rules(
    (r"customer not available|business closed|no one|not home|attempt", S.FAILED_ATTEMPT, None),
    (r"redirected|rerout", S.IN_TRANSIT, None),
    (r"return(?:ed|ing)? to (?:the )?(?:sender|shipper)", S.RETURNED_TO_SENDER, None),
    (r"address", S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    (r"customs|clearance|broker", S.EXCEPTION, ExceptionReason.CUSTOMS.value),
    (r"damage", S.EXCEPTION, ExceptionReason.DAMAGED.value),
    (r"refus", S.EXCEPTION, ExceptionReason.REFUSED.value),
    (r"weather|storm|snow", S.EXCEPTION, ExceptionReason.WEATHER.value),
)
# `deliveryDetails.locationDescription` / `locationType` of a delivered shipment.
DELIVERED_TEXT = text_rules(
    (r"neighbou?r", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"locker", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
    (r"mail ?room|mail ?box", S.DELIVERED, DeliveredTo.MAILBOX.value),
    (r"front door|back door|side door|porch|garage|patio", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
    (r"fedex office|authorized ship center|retail|walgreens|dollar general", S.DELIVERED,
     DeliveredTo.PARCEL_SHOP.value),
)

ERROR_CODES: dict[str, str] = {
    "TRACKING.TRACKINGNUMBER.NOTFOUND": TrackingErrorCode.NOT_FOUND,
    "TRACKING.TRACKINGNUMBER.INVALID": TrackingErrorCode.INVALID_NUMBER,
    "TRACKING.TRACKINGNUMBER.EMPTY": TrackingErrorCode.INVALID_NUMBER,
    "NOT.AUTHORIZED.ERROR": TrackingErrorCode.AUTH,
    "UNAUTHORIZED": TrackingErrorCode.AUTH,
    "FORBIDDEN.ERROR": TrackingErrorCode.AUTH,
    "INTERNAL.SERVER.ERROR": TrackingErrorCode.CARRIER_DOWN,
    "SERVICE.UNAVAILABLE.ERROR": TrackingErrorCode.CARRIER_DOWN,
    "TOO.MANY.REQUESTS": TrackingErrorCode.RATE_LIMITED,
    "NOT.FOUND.ERROR": TrackingErrorCode.BAD_RESPONSE,  # the endpoint, not the parcel
}


def map_event(code: str | None, text: str = "") -> Mapped:
    mapped = EVENT_CODES.get(code or "")
    if mapped is None:
        return S.UNKNOWN, None
    if mapped[0] is S.EXCEPTION and mapped[1] == ExceptionReason.OTHER.value:
        refined = match_text(text, EXCEPTION_TEXT)
        if refined:
            return refined
    return mapped


class Fedex(HttpCarrier):
    code: ClassVar[str] = "fedex"
    name: ClassVar[str] = "FedEx"
    batch_size: ClassVar[int] = 30
    quota: ClassVar[Quota] = Quota(per_second=5)  # conservative default; FedEx throttles per project
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    DEFAULT_BASE_URL: ClassVar[str] = "https://apis.fedex.com"
    TRACKING_URL: ClassVar[str] = "https://www.fedex.com/fedextrack/?trknbr={number}"

    TOKEN_PATH: ClassVar[str] = "/oauth/token"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        body = {"includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in batch]}
        response = self.transport.request("POST", "/track/v1/trackingnumbers", json_body=body,
                                          headers={"Accept": "application/json", "X-locale": "en_US"},
                                          oauth=self._oauth())
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="a FedEx tracking body")
        output = data.get("output")
        if isinstance(output, dict) and isinstance(output.get("completeTrackResults"), list):
            return [self._complete(c) for c in output["completeTrackResults"] if isinstance(c, dict)]
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code, message = str(errors[0].get("code") or ""), str(errors[0].get("message") or "error")
            return [TrackingResult(tracking_number="", raw=data, error=TrackingError(
                code=ERROR_CODES.get(code, TrackingErrorCode.BAD_RESPONSE), message=f"{code}: {message}"))]
        raise ValueError("not a FedEx tracking body: no `output.completeTrackResults` and no `errors`")

    def _complete(self, complete: Mapping[str, Any]) -> TrackingResult:
        number = str(complete.get("trackingNumber") or "")
        candidates = [r for r in complete.get("trackResults") or () if isinstance(r, dict)]
        with_data = [r for r in candidates if r.get("scanEvents") or r.get("latestStatusDetail")]
        if not with_data:
            error = next((r.get("error") for r in candidates if isinstance(r.get("error"), dict)), None) or {}
            code = str(error.get("code") or "")
            return TrackingResult(tracking_number=number, raw=dict(complete), error=TrackingError(
                code=ERROR_CODES.get(code, TrackingErrorCode.NOT_FOUND),
                message=f"{code}: {error.get('message') or 'no tracking data'}".strip(": ")))
        # FedEx reuses numbers: several shipments may answer one number. The one with the latest scan is ours.
        parsed = [self._track_result(number, r) for r in with_data]
        return max(parsed, key=lambda res: res.events[0].occurred_at.timestamp() if res.events else float("-inf"))

    def _track_result(self, number: str, result: Mapping[str, Any]) -> TrackingResult:
        number = number or str((result.get("trackingNumberInfo") or {}).get("trackingNumber") or "")
        events = newest_first([self._event(e) for e in result.get("scanEvents") or () if isinstance(e, dict)])
        latest = result.get("latestStatusDetail") or {}
        if latest.get("code") or latest.get("derivedCode"):
            code = latest.get("code") if latest.get("code") in EVENT_CODES else latest.get("derivedCode")
            text = " ".join(str(a.get("reasonDescription") or "") for a in latest.get("ancillaryDetails") or ()
                            if isinstance(a, dict)) + " " + str(latest.get("description") or "")
            status, sub = map_event(code, text)
        elif events:
            status, sub = events[0].status, events[0].substatus
        else:
            status, sub = S.UNKNOWN, None
        if status is S.IN_TRANSIT and (latest.get("delayDetail") or {}).get("status") == "DELAYED":
            sub = CARRIER_DELAY_SUBSTATUS
        details = result.get("deliveryDetails") or {}
        if status is S.DELIVERED:
            where = f"{details.get('locationDescription') or ''} {details.get('locationType') or ''}"
            refined = match_text(where, DELIVERED_TEXT)
            sub = refined[1] if refined else None
        hold = ((result.get("holdAtLocation") or {}).get("locationContactAndAddress") or {}).get("address") or {}
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=_estimate(result),
            service=(result.get("serviceDetail") or {}).get("description") or None,
            pickup_location=(", ".join(list(hold.get("streetLines") or []) + [hold.get("city") or ""]).strip(", ")
                             if status is S.READY_FOR_PICKUP and hold else None),
            raw=dict(result),
        )

    def _event(self, event: Mapping[str, Any]) -> TrackingEvent:
        where = event.get("scanLocation") or {}
        country = where.get("countryCode") or None
        code = event.get("eventType") if event.get("eventType") in EVENT_CODES else (
            event.get("derivedStatusCode") or event.get("eventType"))
        status, sub = map_event(code, str(event.get("exceptionDescription") or ""))
        description = str(event.get("eventDescription") or "")
        if event.get("exceptionDescription"):
            description = f"{description}: {str(event['exceptionDescription']).strip()}"
        return TrackingEvent(
            # FedEx normally sends the scan's local offset; a few scans come without one (then: the scan's zone)
            occurred_at=parse_iso(str(event["date"]), zone=zone_for(country=country,
                                                                    state=where.get("stateOrProvinceCode"))),
            status=status,
            code=event.get("eventType") or event.get("derivedStatusCode"),
            description=description,
            location=", ".join(x for x in (where.get("city"), where.get("stateOrProvinceCode"), country) if x)
            or None,
            substatus=sub,
            country=country,
        )


def _estimate(result: Mapping[str, Any]) -> EstimatedDelivery | None:
    destination = ((result.get("destinationLocation") or {}).get("locationContactAndAddress") or {}).get(
        "address") or (result.get("recipientInformation") or {}).get("address") or {}
    zone = zone_for(country=destination.get("countryCode"), state=destination.get("stateOrProvinceCode"))

    def when(value: Any) -> datetime | None:
        try:
            return parse_iso(str(value), zone=zone) if value else None
        except ValueError:
            return None

    for item in result.get("dateAndTimes") or ():
        if isinstance(item, dict) and item.get("type") == "ESTIMATED_DELIVERY" and when(item.get("dateTime")):
            moment = when(item["dateTime"])
            assert moment is not None
            return EstimatedDelivery(earliest=moment, latest=moment)
    window = (result.get("estimatedDeliveryTimeWindow") or {}).get("window") or {}
    begins, ends = when(window.get("begins")), when(window.get("ends"))
    if begins or ends:
        return EstimatedDelivery(earliest=begins or ends, latest=ends)  # type: ignore[arg-type]
    return None
