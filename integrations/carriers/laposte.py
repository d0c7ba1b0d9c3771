"""La Poste Suivi v2 (`X-Okapi-Key`): Colissimo, Lettre suivie and Chronopost by event code, with `isFinal`."""
from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, Mapping

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
from integrations.carriers.localtime import parse_iso, zone_for
from integrations.status import DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus

# `event[].code`: La Poste's event codes (the same for Colissimo, Lettre suivie and Chronopost in Suivi v2).
EVENT_CODES: dict[str, Mapped] = {
    "DR1": (S.LABEL_CREATED, None),  # déclaratif réceptionné: the sender announced it
    "PC1": (S.IN_TRANSIT, None),  # pris en charge
    "PC2": (S.IN_TRANSIT, None),  # pris en charge dans le pays d'expédition
    "ET1": (S.IN_TRANSIT, None),  # en cours de traitement
    "ET2": (S.IN_TRANSIT, None),  # en cours de traitement dans le pays d'expédition
    "ET3": (S.IN_TRANSIT, None),  # en cours de traitement dans le pays de destination
    "ET4": (S.IN_TRANSIT, None),  # en cours de traitement dans un pays de transit
    "EP1": (S.IN_TRANSIT, None),  # en attente de présentation
    "DO1": (S.IN_TRANSIT, None),  # entrée en douane
    "DO2": (S.IN_TRANSIT, None),  # sortie de douane
    "DO3": (S.EXCEPTION, ExceptionReason.CUSTOMS.value),  # retenu en douane
    "PB1": (S.EXCEPTION, ExceptionReason.OTHER.value),  # problème en cours (the text says which)
    "PB2": (S.IN_TRANSIT, None),  # problème résolu
    "MD2": (S.OUT_FOR_DELIVERY, None),  # mis en distribution
    "ND1": (S.FAILED_ATTEMPT, None),  # non distribuable (the text says why)
    "AG1": (S.READY_FOR_PICKUP, None),  # en attente d'être retiré au guichet / point retrait
    "RE1": (S.RETURNED_TO_SENDER, None),  # retourné à l'expéditeur
    "DI1": (S.DELIVERED, None),  # distribué
    "DI2": (S.RETURNED_TO_SENDER, None),  # distribué à l'expéditeur: back at the shop
}
PROBLEM_TEXT = text_rules(
    (r"adress", S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),
    (r"refus", S.EXCEPTION, ExceptionReason.REFUSED.value),
    (r"endommag|abîm|damag", S.EXCEPTION, ExceptionReason.DAMAGED.value),
    (r"douane|customs", S.EXCEPTION, ExceptionReason.CUSTOMS.value),
    (r"intempéries|météo|weather", S.EXCEPTION, ExceptionReason.WEATHER.value),
)
DELIVERED_TEXT = text_rules(
    (r"voisin|neighbou?r", S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    (r"boîte aux lettres|boite aux lettres|mailbox|letterbox", S.DELIVERED, DeliveredTo.MAILBOX.value),
    (r"consigne|locker", S.DELIVERED, DeliveredTo.PARCEL_LOCKER.value),
    (r"point retrait|bureau de poste|relais|post office", S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),
)
_REFINE = {S.EXCEPTION: PROBLEM_TEXT, S.FAILED_ATTEMPT: PROBLEM_TEXT, S.DELIVERED: DELIVERED_TEXT}

RETURN_CODES: dict[int, str] = {
    400: TrackingErrorCode.INVALID_NUMBER,  # "le numéro que vous avez saisi n'est pas valide"
    401: TrackingErrorCode.AUTH,
    404: TrackingErrorCode.NOT_FOUND,
    429: TrackingErrorCode.RATE_LIMITED,
}
# Timeline step 5 is "delivered" in La Poste's five-step timeline (pris en charge ... livré).
TIMELINE_DELIVERED_STEP = 5


def map_event(code: str | None, text: str) -> Mapped:
    mapped = EVENT_CODES.get((code or "").strip().upper())
    if mapped is None:
        return S.UNKNOWN, None
    refined = match_text(text, _REFINE.get(mapped[0], ()))
    return refined if refined else mapped


class LaPoste(HttpCarrier):
    code: ClassVar[str] = "laposte"
    name: ClassVar[str] = "La Poste / Colissimo"
    batch_size: ClassVar[int] = 10  # idships takes up to 10 comma-separated numbers
    quota: ClassVar[Quota] = Quota(per_second=5)  # no daily cap published for Suivi v2; kept modest
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    DEFAULT_BASE_URL: ClassVar[str] = "https://api.laposte.fr"
    TRACKING_URL: ClassVar[str] = "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
    language: ClassVar[str] = "fr_FR"

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request("GET", f"/suivi/v2/idships/{','.join(batch)}", params={"lang": self.language},
                                          headers={"X-Okapi-Key": self._credential("api_key"),
                                                   "Accept": "application/json"})
        return [response.content]

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        try:
            data = json.loads(payload)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a La Poste body: {exc}") from None
        items = data if isinstance(data, list) else [data]  # one number: an object; several: a list (HTTP 207)
        if not items or not all(isinstance(i, dict) and ("returnCode" in i or "code" in i) for i in items):
            raise ValueError("not a La Poste body: expected `returnCode` items")
        return [self._item(i) for i in items]

    def _item(self, item: Mapping[str, Any]) -> TrackingResult:
        shipment = item.get("shipment")
        if "returnCode" not in item:  # the Okapi gateway's own errors: {"code": "UNAUTHORIZED", "message": ...}
            kind = TrackingErrorCode.AUTH if "AUTH" in str(item.get("code")).upper() else TrackingErrorCode.BAD_RESPONSE
            return TrackingResult(tracking_number="", raw=dict(item), error=TrackingError(
                code=kind, message=str(item.get("message") or item.get("code"))))
        try:
            code = int(item.get("returnCode") or 0)
        except (TypeError, ValueError):
            code = 0
        if not isinstance(shipment, dict) or code >= 300:
            number = str(item.get("idShip") or "")
            kind = RETURN_CODES.get(code, TrackingErrorCode.CARRIER_DOWN if code >= 500 else TrackingErrorCode.BAD_RESPONSE)
            return TrackingResult(tracking_number=number, raw=dict(item), error=TrackingError(
                code=kind, message=str(item.get("returnMessage") or f"returnCode {code}")))
        return self._shipment(shipment)

    def _shipment(self, shipment: Mapping[str, Any]) -> TrackingResult:
        number = str(shipment.get("idShip") or "")
        context = shipment.get("contextData") or {}
        country = context.get("arrivalCountry") or None
        events = newest_first([self._event(e, country=country) for e in shipment.get("event") or ()
                               if isinstance(e, dict) and e.get("date")])
        status, sub = (events[0].status, events[0].substatus) if events else (S.UNKNOWN, None)
        final = shipment.get("isFinal") is True
        if status is S.UNKNOWN and final and _timeline_reached(shipment, TIMELINE_DELIVERED_STEP):
            # A newest code we have no row for, but La Poste says the journey is over and step 5 (livré) is done.
            status, sub = S.DELIVERED, None
        estimate = None
        if not final and shipment.get("estimDate"):
            moment = parse_iso(str(shipment["estimDate"]), zone=zone_for(country=country))
            estimate = EstimatedDelivery(earliest=moment.date(), latest=moment.date())
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=estimate,
            tracking_url=str(shipment.get("url") or ""),
            service=str(shipment.get("product") or "") or None,
            raw=dict(shipment),
        )

    def _event(self, event: Mapping[str, Any], *, country: str | None) -> TrackingEvent:
        text = str(event.get("label") or "")
        status, sub = map_event(event.get("code"), text)
        return TrackingEvent(occurred_at=parse_iso(str(event["date"]), zone=zone_for(country="FR")), status=status,
                             code=event.get("code") or None, description=text, substatus=sub,
                             location=event.get("siteName") or None)


def _timeline_reached(shipment: Mapping[str, Any], step: int) -> bool:
    return any(isinstance(t, dict) and t.get("id") == step and t.get("status") is True
               for t in shipment.get("timeline") or ())
