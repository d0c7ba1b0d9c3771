"""AfterShip as the aggregator for carriers without an adapter: register numbers, read trackings and signed webhooks."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import replace
from typing import Any, ClassVar, Mapping

from integrations.carriers.adapter import HttpCarrier, Mapped, json_object
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
from integrations.carriers.localtime import parse_date, parse_iso, zone_for
from integrations.errors import PermanentError, RetryableError
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ExceptionReason, ShipmentStatus

logger = logging.getLogger(__name__)

S = ShipmentStatus
SIGNATURE_HEADER = "aftership-hmac-sha256"

# `tag`: AfterShip's nine delivery statuses.
TAGS: dict[str, Mapped] = {
    "Pending": (S.LABEL_CREATED, None),  # registered, the carrier has said nothing yet
    "InfoReceived": (S.LABEL_CREATED, None),
    "InTransit": (S.IN_TRANSIT, None),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, None),
    "AvailableForPickup": (S.READY_FOR_PICKUP, None),
    "AttemptFail": (S.FAILED_ATTEMPT, None),
    "Delivered": (S.DELIVERED, None),
    "Exception": (S.EXCEPTION, ExceptionReason.OTHER.value),
    "Expired": (S.UNKNOWN, None),  # AfterShip stopped tracking after 30 silent days: not the carrier's word
}
# `subtag`: refines the tag where AfterShip's sub-status says more than its tag.
SUBTAGS: dict[str, Mapped] = {
    "Delivered_001": (S.DELIVERED, None),
    "Delivered_002": (S.DELIVERED, DeliveredTo.PARCEL_SHOP.value),  # picked up by the customer
    "Delivered_003": (S.DELIVERED, DeliveredTo.RECIPIENT.value),  # signed by the customer
    "Delivered_004": (S.DELIVERED, DeliveredTo.RECIPIENT.value),  # delivered, cash on delivery collected
    "Delivered_005": (S.DELIVERED, DeliveredTo.NEIGHBOUR.value),
    "Exception_002": (S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),  # customer moved
    "Exception_003": (S.EXCEPTION, ExceptionReason.REFUSED.value),
    "Exception_004": (S.EXCEPTION, ExceptionReason.CUSTOMS.value),  # delayed in customs clearance
    "Exception_005": (S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),  # delayed by external factors: late, not broken
    "Exception_006": (S.EXCEPTION, ExceptionReason.CUSTOMS.value),  # held for payment (duties)
    "Exception_007": (S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value),  # incorrect address
    "Exception_010": (S.RETURNED_TO_SENDER, None),  # returning to sender
    "Exception_011": (S.RETURNED_TO_SENDER, None),  # returned to sender
    "Exception_012": (S.EXCEPTION, ExceptionReason.DAMAGED.value),
    "Exception_013": (S.EXCEPTION, ExceptionReason.LOST.value),
    "Exception_016": (S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS),  # delayed (processing issue)
    "Exception_017": (S.EXCEPTION, ExceptionReason.WEATHER.value),  # delayed (extreme weather)
    "Exception_018": (S.EXCEPTION, ExceptionReason.CUSTOMS.value),  # incorrect / missing documents
}
META_ERRORS: dict[int, str] = {
    4004: TrackingErrorCode.NOT_FOUND,  # tracking does not exist
    4005: TrackingErrorCode.INVALID_NUMBER,  # invalid tracking number
    4010: TrackingErrorCode.INVALID_NUMBER,  # the number matches no courier
    401: TrackingErrorCode.AUTH,
    429: TrackingErrorCode.RATE_LIMITED,
}
ALREADY_EXISTS = 4003


def map_tag(tag: str | None, subtag: str | None) -> Mapped:
    """Subtag first (it is the finer code), then the tag; anything else is unknown."""
    return SUBTAGS.get(subtag or "") or TAGS.get(tag or "") or (S.UNKNOWN, None)


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def verify_signature(*, body: bytes, signature: str | None, secret: str | None) -> bool:
    """AfterShip signs the raw body: base64(HMAC-SHA256(webhook secret, body)); compared in constant time."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip())


class AfterShip(HttpCarrier):
    code: ClassVar[str] = "aftership"
    name: ClassVar[str] = "AfterShip (other carriers)"
    batch_size: ClassVar[int] = 50  # tracking_numbers filter of GET /trackings
    quota: ClassVar[Quota] = Quota(per_second=10)  # AfterShip's documented 10 requests/second per account
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key", "webhook_secret")
    DEFAULT_BASE_URL: ClassVar[str] = "https://api.aftership.com"
    TRACKING_URL: ClassVar[str] = "https://track.aftership.com/{number}"
    API_PATH: ClassVar[str] = "/tracking/2024-04"
    # Webhooks bring the news; polling AfterShip is only the safety net for a lost webhook.
    cadence_scale: ClassVar[float] = 6.0

    def _headers(self) -> dict[str, str]:
        return {"as-api-key": self._credential("api_key"), "Accept": "application/json",
                "Content-Type": "application/json"}

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        response = self.transport.request("GET", f"{self.API_PATH}/trackings",
                                          params={"tracking_numbers": ",".join(batch), "limit": 200},
                                          headers=self._headers())
        return [response.content]

    def _track_batch(self, batch: list[str]) -> list[TrackingResult]:
        """Numbers AfterShip does not know yet are registered; from then on its webhooks report them."""
        results = super()._track_batch(batch)
        out = []
        for result in results:
            if result.error is not None and result.error.code == TrackingErrorCode.NOT_FOUND:
                result = self.register(result.tracking_number)
            out.append(result)
        return out

    def register(self, number: str, *, slug: str | None = None) -> TrackingResult:
        body: dict[str, Any] = {"tracking_number": number}
        if slug:
            body["slug"] = slug
        try:
            response = self.transport.request("POST", f"{self.API_PATH}/trackings", json_body=body,
                                              headers=self._headers())
            (parsed,) = self.parse(response.content)[:1] or (None,)
        except PermanentError as exc:
            code = TrackingErrorCode.AUTH if exc.code == "auth" else TrackingErrorCode.BAD_RESPONSE
            return TrackingResult(tracking_number=number, error=TrackingError(code=code, message=str(exc)))
        except RetryableError as exc:
            code = TrackingErrorCode.RATE_LIMITED if exc.retry_after else TrackingErrorCode.CARRIER_DOWN
            return TrackingResult(tracking_number=number, error=TrackingError(code=code, message=str(exc),
                                                                              retry_after=exc.retry_after))
        except ValueError as exc:
            return TrackingResult(tracking_number=number, error=TrackingError(
                code=TrackingErrorCode.BAD_RESPONSE, message=str(exc)[:200]))
        if parsed is None:
            return TrackingResult(tracking_number=number, error=TrackingError(
                code=TrackingErrorCode.BAD_RESPONSE, message="AfterShip answered the registration without a tracking"))
        logger.info("aftership: registered a tracking (%s)", "ok" if parsed.ok else parsed.error.code)  # type: ignore[union-attr]
        return replace(parsed, tracking_number=number)

    def check_credentials(self) -> TrackingError | None:
        """Verify the API key without registering anything (a tracking-number probe would create one)."""
        try:
            response = self.transport.request("GET", f"{self.API_PATH}/trackings", params={"limit": 1},
                                              headers=self._headers())
        except PermanentError as exc:
            return TrackingError(code=TrackingErrorCode.AUTH if exc.code == "auth" else TrackingErrorCode.BAD_RESPONSE,
                                 message=str(exc))
        except RetryableError as exc:
            return TrackingError(code=TrackingErrorCode.CARRIER_DOWN, message=str(exc))
        if response.status >= 400:
            return TrackingError(code=TrackingErrorCode.BAD_RESPONSE, message=response.summary())
        return None

    # -- parsing --------------------------------------------------------------------------------------------

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        data = json_object(payload, what="an AfterShip body")
        if isinstance(data.get("msg"), dict) and "tracking_number" in data["msg"]:  # a webhook delivery
            return [self._tracking(data["msg"])]
        meta = data.get("meta")
        if not isinstance(meta, dict):
            raise ValueError("not an AfterShip body: no `meta` and no webhook `msg`")
        try:
            code = int(meta.get("code") or 0)
        except (TypeError, ValueError):
            code = 0
        body = data.get("data") if isinstance(data.get("data"), dict) else {}
        if code >= 300 and code != ALREADY_EXISTS:
            kind = META_ERRORS.get(code, TrackingErrorCode.CARRIER_DOWN if 500 <= code < 600
                                   else TrackingErrorCode.BAD_RESPONSE)
            number = str((body.get("tracking") or body).get("tracking_number") or "")
            return [TrackingResult(tracking_number=number, raw=data, error=TrackingError(
                code=kind, message=str(meta.get("message") or f"meta code {code}")))]
        if isinstance(body.get("trackings"), list):
            return [self._tracking(t) for t in body["trackings"] if isinstance(t, dict)]
        tracking = body.get("tracking") if isinstance(body.get("tracking"), dict) else body
        if "tracking_number" in tracking:
            return [self._tracking(tracking)]
        return []

    def parse_webhook(self, body: bytes) -> TrackingResult:
        results = self.parse(body)
        if len(results) != 1:
            raise ValueError("an AfterShip webhook carries exactly one tracking")
        return results[0]

    def _tracking(self, tracking: Mapping[str, Any]) -> TrackingResult:
        number = str(tracking.get("tracking_number") or "")
        events = newest_first([self._checkpoint(c) for c in tracking.get("checkpoints") or ()
                               if isinstance(c, dict) and c.get("checkpoint_time")])
        status, sub = map_tag(tracking.get("tag"), tracking.get("subtag"))
        if events and events[0].status is not S.UNKNOWN and status is S.UNKNOWN:
            status, sub = events[0].status, events[0].substatus
        return self._tracked(
            number, status, sub, events,
            estimated_delivery=None if status.is_terminal else _estimate(tracking),
            tracking_url=str(tracking.get("courier_tracking_link") or ""),
            service=" ".join(x for x in (str(tracking.get("slug") or ""), str(tracking.get("shipment_type") or "")) if x)
            or None,
            raw={k: v for k, v in tracking.items() if k not in ("customer_name", "emails", "smses", "customers")},
        )

    def _checkpoint(self, checkpoint: Mapping[str, Any]) -> TrackingEvent:
        country = alpha2(checkpoint.get("country_region") or checkpoint.get("country_iso3"))
        status, sub = map_tag(checkpoint.get("tag"), checkpoint.get("subtag"))
        place = checkpoint.get("location") or ", ".join(
            str(x) for x in (checkpoint.get("city"), checkpoint.get("state")) if x) or None
        return TrackingEvent(
            # AfterShip gives the carrier's local time with its offset; without one, the checkpoint's country zone.
            occurred_at=parse_iso(str(checkpoint["checkpoint_time"]), zone=zone_for(country=country)),
            status=status, code=checkpoint.get("subtag") or checkpoint.get("tag") or None,
            description=str(checkpoint.get("message") or checkpoint.get("subtag_message") or ""),
            location=place, substatus=sub, country=country)


def _estimate(tracking: Mapping[str, Any]) -> EstimatedDelivery | None:
    node = tracking.get("courier_estimated_delivery_date") or tracking.get("aftership_estimated_delivery_date")
    try:
        if isinstance(node, dict):
            low = node.get("estimated_delivery_date_min") or node.get("estimated_delivery_date")
            high = node.get("estimated_delivery_date_max") or node.get("estimated_delivery_date")
            if low:
                return EstimatedDelivery(earliest=parse_date(str(low)), latest=parse_date(str(high or low)))
        if tracking.get("expected_delivery"):
            day = parse_date(str(tracking["expected_delivery"]))
            return EstimatedDelivery(earliest=day, latest=day)
    except ValueError:
        return None
    return None
