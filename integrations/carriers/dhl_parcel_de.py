"""DHL Parcel DE tracking (XML `d-get-piece-detail`): German parcels with Packstation, neighbour and shop events."""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import ClassVar
from xml.sax.saxutils import quoteattr

from integrations.carriers.adapter import HttpCarrier, Mapped, match_text
from integrations.carriers.base import (
    Quota,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from integrations.carriers.dhl import DELIVERED_TEXT, FAILURE_TEXT, TRANSIT_TEXT
from integrations.carriers.localtime import COUNTRY_NAMES, attach_zone, zone_for
from integrations.status import DeliveredTo, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `standard-event-code`: DHL Paket's two-letter event code.
STANDARD_EVENT_CODES: dict[str, Mapped] = {
    "ES": (S.IN_TRANSIT, None),  # Einlieferung: posted by the sender (branch, Packstation, parcel shop)
    "AE": (S.IN_TRANSIT, None),  # Abholung erfolgreich: picked up from the sender
    "AA": (S.IN_TRANSIT, None),  # processed / departed the parcel center of origin
    "EE": (S.IN_TRANSIT, None),  # processed in the destination parcel center
    "PO": (S.OUT_FOR_DELIVERY, None),  # loaded onto the delivery vehicle
    "ZU": (S.DELIVERED, None),  # Zustellung erfolgreich
}

# `ice` (event) codes of DHL's ICE/RIC scheme, used when the standard code is absent or unknown.
ICE_CODES: dict[str, Mapped] = {
    "SHRCU": (S.IN_TRANSIT, None),  # shipment received from customer
    "PCKDU": (S.IN_TRANSIT, None),  # picked up
    "LDTMV": (S.IN_TRANSIT, None),  # loaded to move
    "ULFMV": (S.IN_TRANSIT, None),  # unloaded from move
    "ARRVD": (S.IN_TRANSIT, None),  # arrived
    "DLVRD": (S.DELIVERED, None),  # delivered
}

# `ric` (reason) of a DLVRD event: where it was delivered. Any other ric keeps the text refinement.
DELIVERED_RIC: dict[str, str] = {
    "PCKST": DeliveredTo.PARCEL_LOCKER.value,  # Packstation
    "NGHBR": DeliveredTo.NEIGHBOUR.value,  # neighbour
}

_REFINE = {S.IN_TRANSIT: TRANSIT_TEXT, S.EXCEPTION: FAILURE_TEXT, S.DELIVERED: DELIVERED_TEXT}
_NO_DATA_CODES = {"100"}  # "No data found"
_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})")


def map_event(*, standard: str | None, ice: str | None, ric: str | None, text: str,
              returning: bool = False) -> Mapped:
    """Codes first (standard event code, then ICE), DHL's text only refines within the family."""
    mapped = STANDARD_EVENT_CODES.get(standard or "") or ICE_CODES.get(ice or "")
    if mapped is None:
        return S.UNKNOWN, None
    status, sub = mapped
    if status is S.DELIVERED and ric in DELIVERED_RIC:
        sub = DELIVERED_RIC[ric]
        # "delivered into the Packstation, ready for pick-up" still awaits the shopper
        refined = match_text(text, DELIVERED_TEXT[:1])
        return refined if refined else (status, sub)
    refined = match_text(text, _REFINE.get(status, ()))
    status, sub = refined if refined else (status, sub)
    if returning and status is not S.UNKNOWN:
        return S.RETURNED_TO_SENDER, None  # `ruecksendung="true"`: the piece is on its way back
    return status, sub


def parse_timestamp(value: str, *, country: str | None) -> datetime:
    """`dd.mm.yyyy HH:MM`, the local time of the event. The API gives no offset: we use the zone of the event's
    country when it has exactly one, else Germany's (this API tracks German parcels)."""
    match = _DATE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"unexpected DHL timestamp {value!r}")
    day, month, year, hour, minute = (int(g) for g in match.groups())
    zone = zone_for(country=country) or zone_for(country="DE")
    return attach_zone(datetime(year, month, day, hour, minute), zone=zone)


class DhlParcelDe(HttpCarrier):
    code: ClassVar[str] = "dhl_parcel_de"
    name: ClassVar[str] = "DHL Paket (Germany)"
    batch_size: ClassVar[int] = 20
    quota: ClassVar[Quota] = Quota(per_second=1, per_day=250)
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key", "username", "password")
    DEFAULT_BASE_URL: ClassVar[str] = "https://api-eu.dhl.com/parcel/de/tracking/v0"
    TRACKING_URL: ClassVar[str] = ("https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html"
                                   "?piececode={number}")

    language: ClassVar[str] = "en"

    def request_xml(self, numbers: list[str]) -> str:
        attrs = {
            "appname": self._credential("username"),
            "language-code": self.language,
            "password": self._credential("password"),
            "piece-code": ";".join(numbers),
            "request": "d-get-piece-detail",
        }
        return "<data " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request(
            "GET", "/shipments", params={"xml": self.request_xml(batch)},
            headers={"DHL-API-Key": self._credential("api_key"), "Accept": "application/xml"})
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        try:
            root = ET.fromstring(payload)
        except (ET.ParseError, TypeError) as exc:
            raise ValueError(f"not a DHL Parcel DE body: {exc}") from None
        if root.tag != "data" or root.get("name") != "piece-shipment-list":
            raise ValueError("not a DHL Parcel DE body: expected <data name=\"piece-shipment-list\">")
        pieces = [el for el in root if el.tag == "data" and el.get("name") == "piece-shipment"]
        if not pieces and root.get("code", "0") != "0":
            code = root.get("code", "")
            message = root.get("error") or f"error code {code}"
            if code in _NO_DATA_CODES:
                kind = TrackingErrorCode.NOT_FOUND
            elif re.search(r"password|credential|auth|login|appname", message, re.IGNORECASE):
                kind = TrackingErrorCode.AUTH
            else:
                kind = TrackingErrorCode.BAD_RESPONSE
            return [TrackingResult(tracking_number="", error=TrackingError(code=kind, message=message),
                                   raw=dict(root.attrib))]
        return [self._piece(piece) for piece in pieces]

    def _piece(self, piece: ET.Element) -> TrackingResult:
        number = piece.get("searched-piece-code") or piece.get("piece-code") or piece.get("piece-identifier") or ""
        if piece.get("error-status", "0") not in ("0", ""):
            return TrackingResult(tracking_number=number, raw=dict(piece.attrib), error=TrackingError(
                code=TrackingErrorCode.NOT_FOUND, message=piece.get("status") or "no data for this piece"))
        events = newest_first([self._event(el) for el in piece.iter("data") if el.get("name") == "piece-event"])
        returning = piece.get("ruecksendung") == "true"
        if piece.get("standard-event-code") or piece.get("ice"):
            status, sub = map_event(standard=piece.get("standard-event-code"), ice=piece.get("ice"),
                                    ric=piece.get("ric"), text=piece.get("status") or "", returning=returning)
        elif events:
            status, sub = events[0].status, events[0].substatus
        else:
            status, sub = S.UNKNOWN, None
        pickup = None
        if status is S.READY_FOR_PICKUP and events:
            pickup = events[0].location
        return self._tracked(
            number, status, sub, events,
            service=piece.get("product-name") or None,
            pickup_location=pickup,
            raw={"piece": dict(piece.attrib)},
        )

    def _event(self, el: ET.Element) -> TrackingEvent:
        country = el.get("event-country") or None
        text = el.get("event-text") or el.get("event-status") or ""
        status, sub = map_event(standard=el.get("standard-event-code"), ice=el.get("ice"), ric=el.get("ric"),
                                text=text, returning=el.get("ruecksendung") == "true")
        code = el.get("standard-event-code") or el.get("ice")
        ice_ric = "/".join(x for x in (el.get("ice"), el.get("ric")) if x)
        return TrackingEvent(
            occurred_at=parse_timestamp(el.get("event-timestamp", ""), country=country),
            status=status,
            # keep every raw code: "PO (SRTED/NRQRD)"
            code=f"{code} ({ice_ric})" if code and ice_ric and code != el.get("ice") else code,
            description=text,
            location=", ".join(x for x in (el.get("event-location"), country) if x) or None,
            substatus=sub,
            country=_country_code(country),
        )


def _country_code(name: str | None) -> str | None:
    if not name:
        return None
    code = COUNTRY_NAMES.get(name.strip().lower())
    return code or (name.upper() if len(name) == 2 else None)
