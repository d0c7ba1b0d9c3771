"""Plain-JSON form of tracking results: the output contract of `flask carriers parse`."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from integrations.carriers.base import TrackingEvent, TrackingResult, newest_first


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_to_json(event: TrackingEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat(),  # keeps the carrier's offset
        "status": event.status.value,
        "substatus": event.substatus,
        "code": event.code,
        "description": event.description,
        "location": event.location,
        "country": event.country,
    }


def result_to_json(result: TrackingResult) -> dict[str, Any]:
    return {
        "tracking_number": result.tracking_number,
        "status": result.status.value,
        "substatus": result.substatus,
        "estimated_delivery": result.estimated_delivery.to_json() if result.estimated_delivery else None,
        "error": {"code": result.error.code, "message": result.error.message} if result.error else None,
        "events": [event_to_json(e) for e in newest_first(result.events)],
        "delivered_to": result.delivered_to,
        "tracking_url": result.tracking_url,
        "service": result.service,
        "pickup_location": result.pickup_location,
        "pickup_deadline": _iso(result.pickup_deadline),
    }


def results_to_json(results: Iterable[TrackingResult]) -> list[dict[str, Any]]:
    return [result_to_json(r) for r in results]
