"""A carrier with no network: each tracking number encodes a journey and when it started, so parcels move in real time."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Mapping, Sequence
from zoneinfo import ZoneInfo

from integrations.carriers.base import (EstimatedDelivery, Quota, RequestGate, TrackingError, TrackingErrorCode,
                                        TrackingEvent, TrackingResult, newest_first)
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ExceptionReason, ShipmentStatus

BERLIN = ZoneInfo("Europe/Berlin")
S = ShipmentStatus


@dataclass(frozen=True)
class Step:
    at: float  # in journey steps after the label was created
    status: ShipmentStatus
    code: str
    text: str
    location: str | None = None
    substatus: str | None = None


_PRE = Step(0, S.LABEL_CREATED, "PRE", "Shipment information received electronically", "Berlin, DE")
_PICKUP = Step(1, S.IN_TRANSIT, "PU", "Picked up by the courier", "Berlin, DE")
_HUB = Step(2, S.IN_TRANSIT, "HUB", "Processed at parcel centre", "Leipzig, DE")
_DEPOT = Step(3, S.IN_TRANSIT, "DEP", "Arrived at the delivery depot", "Hamburg, DE")


def _ofd(at: float) -> Step:
    return Step(at, S.OUT_FOR_DELIVERY, "OFD", "Out for delivery", "Hamburg, DE")


def _delivered(at: float, to: DeliveredTo, text: str) -> Step:
    return Step(at, S.DELIVERED, "DLV", text, "Hamburg, DE", to.value)


# Each journey is a realistic script, including the unhappy ones merchants must handle.
JOURNEYS: dict[str, tuple[Step, ...]] = {
    "STD": (_PRE, _PICKUP, _HUB, _DEPOT, _ofd(4), _delivered(5, DeliveredTo.RECIPIENT, "Delivered to the recipient")),
    "NBR": (_PRE, _PICKUP, _HUB, _DEPOT, _ofd(4), _delivered(5, DeliveredTo.NEIGHBOUR, "Delivered to a neighbour (Mueller, no. 12)")),
    "PKS": (_PRE, _PICKUP, _HUB, _DEPOT,
            Step(4, S.READY_FOR_PICKUP, "PKS", "Ready for collection at Packstation 123", "Packstation 123, Hamburg, DE"),
            _delivered(7, DeliveredTo.PARCEL_LOCKER, "Collected from Packstation 123")),
    "ATT": (_PRE, _PICKUP, _HUB, _DEPOT, _ofd(4),
            Step(5, S.FAILED_ATTEMPT, "ATT", "Recipient not at home, delivery will be attempted again", "Hamburg, DE"),
            _ofd(6), _delivered(7, DeliveredTo.RECIPIENT, "Delivered to the recipient")),
    "ADR": (_PRE, _PICKUP, _HUB,
            Step(3, S.EXCEPTION, "ADR", "Address incomplete: the recipient's address is being clarified", "Hamburg, DE",
                 ExceptionReason.ADDRESS_ISSUE.value),
            Step(5, S.IN_TRANSIT, "FWD", "Address corrected, parcel forwarded", "Hamburg, DE"),
            _ofd(6), _delivered(7, DeliveredTo.RECIPIENT, "Delivered to the recipient")),
    "DLY": (_PRE, _PICKUP,
            Step(2, S.IN_TRANSIT, "DLY", "Delayed due to high parcel volume", "Leipzig, DE", CARRIER_DELAY_SUBSTATUS),
            Step(2.5, S.UNKNOWN, "ZX9", "Sendungsdaten aktualisiert", "Leipzig, DE"),
            Step(5, S.IN_TRANSIT, "HUB", "Processed at parcel centre", "Leipzig, DE"),
            _ofd(6), _delivered(7, DeliveredTo.SAFE_PLACE, "Delivered to the agreed safe place")),
    "RTS": (_PRE, _PICKUP, _HUB, _DEPOT, _ofd(4),
            Step(5, S.FAILED_ATTEMPT, "ATT", "Recipient not at home", "Hamburg, DE"),
            Step(6, S.EXCEPTION, "REF", "Acceptance refused by the recipient", "Hamburg, DE", ExceptionReason.REFUSED.value),
            Step(7, S.RETURNED_TO_SENDER, "RTS", "Returned to sender", "Berlin, DE")),
    # Stalled: no scan for six steps between the hub and the depot (the sandbox store's stall threshold is four).
    "STL": (_PRE, _PICKUP, _HUB,
            Step(8, S.IN_TRANSIT, "DEP", "Arrived at the delivery depot", "Hamburg, DE"),
            _ofd(9), _delivered(10, DeliveredTo.RECIPIENT, "Delivered to the recipient")),
    # Slipped: from the depot scan on, the carrier's estimated delivery is a day later (see ETA_SLIP_AT).
    "ETA": (_PRE, _PICKUP, _HUB, _DEPOT, _ofd(6), _delivered(7, DeliveredTo.RECIPIENT, "Delivered to the recipient")),
    "RET": (Step(0, S.LABEL_CREATED, "PRE", "Return label created", "Hamburg, DE"),
            Step(1, S.IN_TRANSIT, "PU", "Handed in at a parcel shop", "Hamburg, DE"),
            Step(2, S.IN_TRANSIT, "HUB", "Processed at parcel centre", "Leipzig, DE"),
            Step(3, S.DELIVERED, "DLV", "Delivered back to the sender", "Berlin, DE", DeliveredTo.RECIPIENT.value)),
}

# Weights for new sandbox parcels: mostly happy, enough of every other journey to see each trigger.
JOURNEY_WEIGHTS: dict[str, int] = {"STD": 35, "NBR": 10, "PKS": 15, "ATT": 10, "ADR": 8, "DLY": 12, "RTS": 6,
                                   "STL": 6, "ETA": 6}
ETA_SLIP_AT = 3  # the step from which an "ETA" journey's estimated delivery moves a day later
PREFIX = "SBX"


def make_tracking_number(*, journey: str, created_at: datetime, serial: int) -> str:
    return f"{PREFIX}-{journey}-{int(created_at.timestamp())}-{serial:05d}"


def pick_journey(rng: random.Random) -> str:
    names = list(JOURNEY_WEIGHTS)
    return rng.choices(names, weights=[JOURNEY_WEIGHTS[n] for n in names])[0]


class SandboxCarrier:
    """Answers like a carrier API would, from the number alone: a `SBX-ERR-...` number is not found."""

    code: ClassVar[str] = "sandbox"
    name: ClassVar[str] = "Sandbox Express"
    batch_size: ClassVar[int] = 50
    quota: ClassVar[Quota] = Quota(per_second=100.0)
    credential_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, credentials: Mapping[str, str] | None = None, base_url: str | None = None,
                 timeout: tuple[float, float] = (3.05, 10.0), gate: RequestGate | None = None,
                 step_seconds: float = 20.0, clock: Any = None) -> None:
        self.step = timedelta(seconds=step_seconds)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        # Poll in proportion to how fast sandbox parcels move (one step: `step_seconds`), not at real-world pace.
        self.cadence_scale = step_seconds / 14400.0

    def track(self, *, numbers: Sequence[str]) -> list[TrackingResult]:
        return self.parse(json.dumps(self.respond(numbers=numbers, now=self.clock())))

    def respond(self, *, numbers: Sequence[str], now: datetime) -> dict[str, Any]:
        """The sandbox API's response body."""
        shipments = []
        for number in numbers:
            parts = number.split("-")
            if len(parts) != 4 or parts[0] != PREFIX or parts[1] not in JOURNEYS or not parts[2].isdigit():
                shipments.append({"id": number, "error": {"code": "NOT_FOUND", "message": "no such parcel"}})
                continue
            started = datetime.fromtimestamp(int(parts[2]), tz=timezone.utc)
            steps = [s for s in JOURNEYS[parts[1]] if started + s.at * self.step <= now]
            eta_steps = 7 if parts[1] in ("PKS", "ATT", "ADR", "DLY", "RTS") and len(steps) >= 3 else 5
            eta = started + eta_steps * self.step
            if parts[1] == "ETA" and started + ETA_SLIP_AT * self.step <= now:
                eta += timedelta(days=1)
            shipments.append({
                "id": number,
                "eta": eta.astimezone(BERLIN).isoformat(),
                "events": [{"ts": (started + s.at * self.step).astimezone(BERLIN).isoformat(), "code": s.code,
                            "status": s.status.value, "sub": s.substatus, "text": s.text, "where": s.location}
                           for s in reversed(steps)],
            })
        return {"shipments": shipments}

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        try:
            body = json.loads(payload)
            shipments = body["shipments"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("not a sandbox carrier response") from exc
        results = []
        for item in shipments:
            if "error" in item:
                results.append(TrackingResult(tracking_number=item["id"], raw=item,
                                              error=TrackingError(code=TrackingErrorCode.NOT_FOUND, message=item["error"]["message"])))
                continue
            events = newest_first([
                TrackingEvent(occurred_at=datetime.fromisoformat(e["ts"]), status=ShipmentStatus(e["status"]),
                              code=e["code"], description=e["text"], location=e["where"], substatus=e["sub"],
                              country=(e["where"] or "")[-2:] or None)
                for e in item["events"]
            ])
            latest = events[0] if events else None
            pickup = latest.location if latest and latest.status == S.READY_FOR_PICKUP else None
            results.append(TrackingResult(
                tracking_number=item["id"], status=latest.status if latest else S.LABEL_CREATED,
                substatus=latest.substatus if latest else None, events=events,
                estimated_delivery=EstimatedDelivery(earliest=datetime.fromisoformat(item["eta"])),
                delivered_to=latest.substatus if latest and latest.status == S.DELIVERED else None,
                tracking_url=f"https://sandbox-carrier.invalid/track/{item['id']}", service="Parcel",
                pickup_location=pickup,
                pickup_deadline=(latest.occurred_at + timedelta(days=7)).date() if pickup else None,
                raw=item,
            ))
        return results
