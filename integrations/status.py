"""The canonical shipment vocabulary shared by every carrier and store (DESIGN.md section 3)."""
from __future__ import annotations

from enum import Enum


class ShipmentStatus(str, Enum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER})


class DeliveredTo(str, Enum):
    """Substatus of `delivered`."""

    RECIPIENT = "recipient"
    NEIGHBOUR = "neighbour"
    MAILBOX = "mailbox"
    SAFE_PLACE = "safe_place"
    PARCEL_LOCKER = "parcel_locker"
    PARCEL_SHOP = "parcel_shop"


class ExceptionReason(str, Enum):
    """Substatus of `exception`."""

    ADDRESS_ISSUE = "address_issue"
    CUSTOMS = "customs"
    DAMAGED = "damaged"
    LOST = "lost"
    REFUSED = "refused"
    WEATHER = "weather"
    OTHER = "other"


# Substatus of `in_transit` (or of an `exception` for weather/customs) when the carrier itself reports a delay;
# the state machine turns it into `Shipment Delayed` with delay_reason "carrier".
CARRIER_DELAY_SUBSTATUS = "delayed"
