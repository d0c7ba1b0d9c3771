"""DPD ParcelLifeCycle tracking (SOAP `getTrackingData`, token from `LoginService.getAuth`)."""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime
from typing import ClassVar, Mapping
from xml.sax.saxutils import escape

from integrations.carriers.adapter import HttpCarrier, Mapped, match_text, text_rules
from integrations.carriers.base import (
    Quota,
    RequestGate,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from integrations.carriers.localtime import attach_zone, parse_iso, zone_for
from integrations.carriers.transport import DEFAULT_TIMEOUT, RetryPolicy
from integrations.errors import PermanentError, RetryableError
from integrations.status import DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `statusInfo/status`: DPD Germany reports five milestones (upper case), DPD BeNeLux the detailed scan status
# (camel case). Both are DPD's codes; the label text ("Parcel out for delivery") names the milestone group only.
STATUS_CODES: dict[str, Mapped] = {
    "ACCEPTED": (S.IN_TRANSIT, None),  # handed over to DPD
    "AT_SENDING_DEPOT": (S.IN_TRANSIT, None),
    "ON_THE_ROAD": (S.IN_TRANSIT, None),
    "AT_DELIVERY_DEPOT": (S.IN_TRANSIT, None),
    "DELIVERED": (S.DELIVERED, None),
    "PickedUp": (S.IN_TRANSIT, None),  # "DPD has received your parcel"
    "BetweenDepots": (S.IN_TRANSIT, None),  # at a parcel dispatch centre
    "Depot": (S.IN_TRANSIT, None),  # at the delivery depot, not yet on the van
    "Courier": (S.OUT_FOR_DELIVERY, None),  # left the depot on its way to the consignee
    "DeliveryFailure": (S.FAILED_ATTEMPT, None),  # "we have not been able to deliver your parcel"
    # Back at the depot after an unsuccessful attempt: the attempt failed, the parcel is NOT out for delivery.
    "ReturningFromDelivery": (S.FAILED_ATTEMPT, None),
    "ParcelShop": (S.READY_FOR_PICKUP, None),  # delivered by the driver to a Pickup parcel shop for collection
    "Delivered": (S.DELIVERED, None),
}
_CODES = {code.lower(): mapped for code, mapped in STATUS_CODES.items()}

FAILURE_TEXT = text_rules(
    (r"address|adresse", S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    (r"refus|verweiger", S.EXCEPTION, ExceptionReason.REFUSED.value),
)
DELIVERED_TEXT = text_rules(
    (r"neighbou?r|nachbar", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"parcel ?shop|pickup point|paketshop", S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),
)
_REFINE = {S.FAILED_ATTEMPT: FAILURE_TEXT, S.DELIVERED: DELIVERED_TEXT}

_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))? ?([AP]M)", re.IGNORECASE)
_DE_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2}))?")
_LOCATION_COUNTRY = re.compile(r"\(([A-Z]{2})\)\s*$")
_AUTH_CODES = re.compile(r"AUTH|LOGIN", re.IGNORECASE)

LOGIN_NS = "http://dpd.com/common/service/types/LoginService/2.0"
AUTH_NS = "http://dpd.com/common/service/types/Authentication/2.0"
PLC_NS = "http://dpd.com/common/service/types/ParcelLifeCycleService/2.0"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TOKEN_LIFETIME = 20 * 3600.0  # DPD tokens live 24 h; refresh well before

_TOKENS: dict[str, tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def map_status(code: str | None, text: str) -> Mapped:
    mapped = _CODES.get((code or "").lower())
    if mapped is None:
        return S.UNKNOWN, None
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


def parse_timestamp(value: str, *, country: str | None) -> datetime:
    """DPD sends the local time of the scan without an offset; the scan's country gives the zone."""
    text = value.strip()
    zone = zone_for(country=country) or zone_for(country="DE")
    match = _US_DATE.fullmatch(text)
    if match:
        month, day, year, hour, minute = (int(g) for g in match.groups()[:5])
        second = int(match.group(6) or 0)
        hour = hour % 12 + (12 if match.group(7).upper() == "PM" else 0)
        return attach_zone(datetime(year, month, day, hour, minute, second), zone=zone)
    match = _DE_DATE.fullmatch(text)
    if match:
        day, month, year, hour, minute = (int(g) for g in match.groups()[:5])
        return attach_zone(datetime(year, month, day, hour, minute, int(match.group(6) or 0)), zone=zone)
    return parse_iso(text, zone=zone)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element | None, name: str) -> ET.Element | None:
    if el is None:
        return None
    return next((c for c in el if _local(c.tag) == name), None)


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: ET.Element | None, *path: str) -> str:
    """The text of a nested element; DPD wraps texts as <x><content>...</content></x> (sometimes twice)."""
    for name in path:
        el = _child(el, name)
    while el is not None and _child(el, "content") is not None:
        el = _child(el, "content")
    return (el.text or "").strip() if el is not None else ""


def _find(root: ET.Element, name: str) -> ET.Element | None:
    return next((el for el in root.iter() if _local(el.tag) == name), None)


class Dpd(HttpCarrier):
    code: ClassVar[str] = "dpd"
    name: ClassVar[str] = "DPD"
    batch_size: ClassVar[int] = 1  # getTrackingData takes one parcel label number
    quota: ClassVar[Quota] = Quota(per_second=2)  # no published limit; kept low, DPD's web services are shared
    credential_fields: ClassVar[tuple[str, ...]] = ("delis_id", "password")
    DEFAULT_BASE_URL: ClassVar[str] = "https://public-ws.dpd.com/services"
    TRACKING_URL: ClassVar[str] = "https://tracking.dpd.de/status/en_US/parcel/{number}"
    LOGIN_PATH: ClassVar[str] = "/LoginService/V2_0/"
    TRACKING_PATH: ClassVar[str] = "/ParcelLifeCycleService/V2_0/"
    language: ClassVar[str] = "en_US"

    def __init__(self, *, credentials: Mapping[str, str] | None = None, base_url: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, gate: RequestGate | None = None,
                 retry_policy: RetryPolicy | None = None) -> None:
        super().__init__(credentials=credentials, base_url=base_url, timeout=timeout, gate=gate,
                         retry_policy=retry_policy)
        # SOAP faults (bad credentials, unknown parcel) come with HTTP 500: read them instead of retrying them.
        policy = self.transport.policy
        self.transport.policy = replace(policy, retry_statuses=policy.retry_statuses - {500})

    # -- transport ------------------------------------------------------------------------------------------

    def _token_key(self) -> str:
        material = "\x00".join((self.base_url, self._credential("delis_id"), self._credential("password")))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _token(self) -> str:
        key = self._token_key()
        with _TOKENS_LOCK:
            cached = _TOKENS.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            body = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="{LOGIN_NS}"><soapenv:Header/>'
                    f"<soapenv:Body><ns:getAuth><delisId>{escape(self._credential('delis_id'))}</delisId>"
                    f"<password>{escape(self._credential('password'))}</password>"
                    f"<messageLanguage>{self.language}</messageLanguage></ns:getAuth></soapenv:Body></soapenv:Envelope>")
            response = self._post(self.LOGIN_PATH, body)
            root = _xml(response.content)
            token = _text(_find(root, "authToken")) if root is not None else ""
            if not token:
                fault = _fault(root) if root is not None else None
                if fault is not None and fault.code == TrackingErrorCode.AUTH:
                    raise PermanentError(f"dpd: login rejected ({fault.message})", code="auth")
                raise RetryableError(f"dpd: no token ({response.summary()})")
            _TOKENS[key] = (token, time.monotonic() + TOKEN_LIFETIME)
            logger.info("dpd: fetched an auth token")
            return token

    def _invalidate(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._token_key(), None)

    def _post(self, path: str, body: str):  # type: ignore[no-untyped-def]
        response = self.transport.request("POST", path, data=body.encode("utf-8"),
                                          headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
        if response.status >= 500 and response.looks_like_html:
            raise RetryableError(f"dpd: {response.summary()}")
        return response

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        for attempt in range(2):
            body = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="{AUTH_NS}" xmlns:ns1="{PLC_NS}">'
                    f"<soapenv:Header><ns:authentication><delisId>{escape(self._credential('delis_id'))}</delisId>"
                    f"<authToken>{escape(self._token())}</authToken><messageLanguage>{self.language}</messageLanguage>"
                    f"</ns:authentication></soapenv:Header><soapenv:Body><ns1:getTrackingData>"
                    f"<parcelLabelNumber>{escape(batch[0])}</parcelLabelNumber></ns1:getTrackingData>"
                    f"</soapenv:Body></soapenv:Envelope>")
            response = self._post(self.TRACKING_PATH, body)
            root = _xml(response.content)
            fault = _fault(root) if root is not None else None
            if attempt == 0 and fault is not None and fault.code == TrackingErrorCode.AUTH:
                self._invalidate()  # the token expired or was revoked on DPD's side: log in again, once
                continue
            return [response.content]
        return [response.content]

    # -- parsing --------------------------------------------------------------------------------------------

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        root = _xml(payload)
        if root is None or _local(root.tag) != "Envelope":
            raise ValueError("not a DPD body: expected a SOAP envelope")
        fault = _fault(root)
        if fault is not None:
            return [TrackingResult(tracking_number="", error=fault)]
        response = _find(root, "getTrackingDataResponse")
        if response is None:
            raise ValueError("not a DPD body: neither getTrackingDataResponse nor a SOAP fault")
        result = _child(response, "trackingresult")
        if result is None:
            return [TrackingResult(tracking_number="", error=TrackingError(
                code=TrackingErrorCode.NOT_FOUND, message="DPD has no tracking data for this parcel"))]
        return [self._result(result)]

    def _result(self, node: ET.Element) -> TrackingResult:
        number = _text(_find(node, "parcelLabelNumber"))
        infos = _children(node, "statusInfo")
        reached = [i for i in infos if _text(i, "statusHasBeenReached") == "true" and _text(i, "date")]
        events = newest_first([self._event(i) for i in reached])
        if not events:
            return TrackingResult(tracking_number=number, raw=_raw(node), error=TrackingError(
                code=TrackingErrorCode.NOT_FOUND, message="DPD has no scans for this parcel yet"))
        current = next((i for i in reached if _text(i, "isCurrentStatus") == "true"), None)
        if current is not None:
            status, sub = self._event(current).status, self._event(current).substatus
        else:
            status, sub = events[0].status, events[0].substatus
        shipment_info = _child(node, "shipmentInfo")
        service = _text(shipment_info, "serviceDescription", "content") if shipment_info is not None else ""
        return self._tracked(
            number, status, sub, events,
            service=service or None,
            pickup_location=events[0].location if status is S.READY_FOR_PICKUP else None,
            raw=_raw(node),
        )

    def _event(self, info: ET.Element) -> TrackingEvent:
        code = _text(info, "status")
        description = _text(info, "description") or _text(info, "label")
        location = _text(info, "location") or None
        match = _LOCATION_COUNTRY.search(location or "")
        country = match.group(1) if match else None
        status, sub = map_status(code, description)
        return TrackingEvent(occurred_at=parse_timestamp(_text(info, "date"), country=country), status=status,
                             code=code or None, description=description, location=location, substatus=sub,
                             country=country)


def _xml(payload: bytes | str) -> ET.Element | None:
    try:
        return ET.fromstring(payload)
    except (ET.ParseError, TypeError):
        return None


def _fault(root: ET.Element) -> TrackingError | None:
    fault = _find(root, "Fault")
    if fault is None:
        return None
    code = _text(_find(fault, "errorCode"))
    message = _text(_find(fault, "errorMessage")) or _text(fault, "faultstring") or "SOAP fault"
    if _AUTH_CODES.search(code) or re.search(r"authenticat|password|delisid", message, re.IGNORECASE):
        kind = TrackingErrorCode.AUTH
    elif re.search(r"not found|no data|unknown parcel|keine daten", message, re.IGNORECASE):
        kind = TrackingErrorCode.NOT_FOUND
    elif re.search(r"invalid|ungültig|parcelLabelNumber", message, re.IGNORECASE):
        kind = TrackingErrorCode.INVALID_NUMBER
    else:
        kind = TrackingErrorCode.BAD_RESPONSE
    return TrackingError(code=kind, message=f"{code}: {message}" if code else message)


def _raw(node: ET.Element) -> str:
    return ET.tostring(node, encoding="unicode")[:20000]
