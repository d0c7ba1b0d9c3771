"""The JSON contract of `flask carriers parse`: fields, ISO 8601 times with offsets, newest event first."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from integrations.carriers.base import EstimatedDelivery, TrackingError, TrackingEvent, TrackingResult
from integrations.carriers.serialize import results_to_json
from integrations.status import ShipmentStatus as S

CET = timezone(timedelta(hours=1))


def test_result_shape_and_order() -> None:
    older = TrackingEvent(occurred_at=datetime(2026, 11, 20, 8, 0, tzinfo=CET), status=S.IN_TRANSIT, code="EE",
                          description="Destination parcel center", location="Bonn, DE")
    newer = TrackingEvent(occurred_at=datetime(2026, 11, 20, 10, 2, tzinfo=CET), status=S.DELIVERED, code="ZU",
                          description="Delivered", substatus="neighbour")
    result = TrackingResult(tracking_number="123", status=S.DELIVERED, substatus="neighbour",
                            events=(older, newer), delivered_to="neighbour", tracking_url="https://x/123",
                            service="DHL PAKET",
                            estimated_delivery=EstimatedDelivery(earliest=date(2026, 11, 20)))
    (data,) = results_to_json([result])
    assert json.loads(json.dumps(data)) == data
    assert data["tracking_number"] == "123" and data["status"] == "delivered" and data["substatus"] == "neighbour"
    assert data["error"] is None
    assert data["estimated_delivery"] == {"earliest": "2026-11-20", "latest": None}
    assert [e["code"] for e in data["events"]] == ["ZU", "EE"]
    assert data["events"][0]["occurred_at"] == "2026-11-20T10:02:00+01:00"
    assert set(data["events"][0]) >= {"occurred_at", "status", "code", "description", "location"}
    assert data["delivered_to"] == "neighbour" and data["tracking_url"] == "https://x/123"
    assert data["service"] == "DHL PAKET"


def test_error_result() -> None:
    result = TrackingResult(tracking_number="9", error=TrackingError(code="not_found", message="No data found"))
    (data,) = results_to_json([result])
    assert data["error"] == {"code": "not_found", "message": "No data found"}
    assert data["status"] == "unknown" and data["events"] == []
