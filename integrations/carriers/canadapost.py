"""Canada Post tracking details (XML `GET /vis/track/pin/{pin}/detail`, HTTP Basic API key)."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from integrations.carriers.adapter import HttpCarrier, Mapped, match_text, text_rules
from integrations.carriers.base import (
    EstimatedDelivery,
    Quota,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from integrations.carriers.localtime import parse_date
from integrations.status import DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `occurrence/event-identifier`: Canada Post's event codes.
EVENT_CODES: dict[str, Mapped] = {
    "0100": (S.IN_TRANSIT, None),  # item processed at postal facility
    # "Customer addressing error found; attempting to correct": the carrier reports an address problem.
    "0173": (S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    "0174": (S.OUT_FOR_DELIVERY, None),  # item out for delivery
    "1496": (S.DELIVERED, None),  # item successfully delivered
    # A signature is captured only when the item is handed over (it carries the delivery scan's time).
    "20": (S.DELIVERED, DeliveredTo.RECIPIENT.value),
}
DELIVERED_TEXT = text_rules(
    (r"safe ?place", S.DELIVERED, DeliveredTo.SAFE_PLACE.value),
    (r"community mailbox|mailbox|parcel locker", S.DELIVERED, DeliveredTo.MAILBOX.value),
    (r"neighbou?r", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
)
_REFINE = {S.DELIVERED: DELIVERED_TEXT}

# `event-time-zone` abbreviations Canada Post uses, as fixed offsets (it names the one that applied).
ZONE_OFFSETS: dict[str, float] = {
    "NST": -3.5, "NDT": -2.5, "AST": -4, "ADT": -3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "UTC": 0, "GMT": 0,
}
# Province of the event site, for a missing zone (the province's predominant zone, standard time only guessed
# when Canada Post sent nothing at all).
PROVINCE_OFFSETS: dict[str, float] = {
    "NL": -3.5, "NS": -4, "NB": -4, "PE": -4, "QC": -5, "ON": -5, "MB": -6, "SK": -6, "AB": -7, "BC": -8,
    "YT": -7, "NT": -7, "NU": -5,
}
MESSAGE_ERRORS: dict[str, str] = {
    "004": TrackingErrorCode.NOT_FOUND,  # no pin history
    "E002": TrackingErrorCode.AUTH,  # AAA authentication failure
}
ACCEPT = "application/vnd.cpc.track-v2+xml"


def map_event(code: str | None, text: str) -> Mapped:
    mapped = EVENT_CODES.get((code or "").strip())
    if mapped is None:
        return S.UNKNOWN, None
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _get(el: ET.Element, name: str) -> str:
    child = next((c for c in el if _local(c.tag) == name), None)
    return (child.text or "").strip() if child is not None else ""


def _event_time(day: str, clock: str, zone: str, province: str) -> datetime:
    offset = ZONE_OFFSETS.get(zone.upper())
    if offset is None:
        offset = PROVINCE_OFFSETS.get(province.upper(), 0.0)
    parsed = datetime.fromisoformat(f"{day}T{clock or '00:00:00'}")
    return parsed.replace(tzinfo=timezone(timedelta(hours=offset)))


class CanadaPost(HttpCarrier):
    code: ClassVar[str] = "canadapost"
    name: ClassVar[str] = "Canada Post"
    batch_size: ClassVar[int] = 1  # one PIN per details call
    quota: ClassVar[Quota] = Quota(per_second=2)  # Canada Post throttles per API key; kept low
    credential_fields: ClassVar[tuple[str, ...]] = ("username", "password")
    DEFAULT_BASE_URL: ClassVar[str] = "https://soa-gw.canadapost.ca"
    TRACKING_URL: ClassVar[str] = "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request(
            "GET", f"/vis/track/pin/{batch[0]}/detail", headers={"Accept": ACCEPT, "Accept-language": "en-CA"},
            auth=(self._credential("username"), self._credential("password")))
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        try:
            root = ET.fromstring(payload)
        except (ET.ParseError, TypeError) as exc:
            raise ValueError(f"not a Canada Post body: {exc}") from None
        elements = [root, *root.iter()]
        detail = next((el for el in elements if _local(el.tag) == "tracking-detail"), None)
        if detail is not None:
            return [self._detail(detail)]
        messages = next((el for el in elements if _local(el.tag) == "messages"), None)
        if messages is not None:
            message = next((m for m in messages if _local(m.tag) == "message"), None)
            code = _get(message, "code") if message is not None else ""
            text = _get(message, "description") if message is not None else "error"
            kind = MESSAGE_ERRORS.get(code) or (TrackingErrorCode.INVALID_NUMBER if "invalid" in text.lower()
                                                else TrackingErrorCode.BAD_RESPONSE)
            return [TrackingResult(tracking_number="", error=TrackingError(code=kind, message=f"{code} {text}".strip()))]
        raise ValueError("not a Canada Post body: neither <tracking-detail> nor <messages>")

    def _detail(self, detail: ET.Element) -> TrackingResult:
        number = _get(detail, "pin")
        events_node = next((c for c in detail if _local(c.tag) == "significant-events"), None)
        occurrences = [o for o in (events_node if events_node is not None else ()) if _local(o.tag) == "occurrence"]
        events = newest_first([self._event(o) for o in occurrences])
        status, sub = (events[0].status, events[0].substatus) if events else (S.UNKNOWN, None)
        expected = _get(detail, "changed-expected-date") or _get(detail, "expected-delivery-date")
        estimate = None
        if expected and not status.is_terminal:
            day = parse_date(expected)
            estimate = EstimatedDelivery(earliest=day, latest=day)
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=estimate,
            service=_get(detail, "service-name") or None,
            raw=ET.tostring(detail, encoding="unicode")[:20000],
        )

    def _event(self, occurrence: ET.Element) -> TrackingEvent:
        code = _get(occurrence, "event-identifier")
        text = _get(occurrence, "event-description")
        province = _get(occurrence, "event-province")
        status, sub = map_event(code, text)
        site = _get(occurrence, "event-retail-name") or _get(occurrence, "event-site")
        return TrackingEvent(
            occurred_at=_event_time(_get(occurrence, "event-date"), _get(occurrence, "event-time"),
                                    _get(occurrence, "event-time-zone"), province),
            status=status, code=code or None, description=text,
            location=", ".join(x for x in (site, province) if x) or None, substatus=sub, country="CA")


