"""`flask carriers parse CARRIER FILE` for the carriers of the second wave: JSON out, exit 0, or one line and exit 1."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.carriers import CARRIER_SAMPLES

SAMPLES = [
    ("dpd", "dpd/TrackingResponse.xml", "failed_attempt", None),
    ("dpd", "dpd/ErrorResponse.xml", "unknown", "auth"),
    ("gls", "gls/TrackingResponse.json", "in_transit", None),
    ("gls", "gls/ErrorResponse.json", "unknown", "not_found"),
    ("hermes", "hermes/TrackingResponse.json", "delivered", None),
    ("hermes", "hermes/TrackingErrorResponse.json", "unknown", "not_found"),
    ("laposte", "laposte/TrackingResponse.json", "delivered", None),
    ("laposte", "laposte/ErrorResponse.json", "unknown", "invalid_number"),
    ("royalmail", "royalmail/TrackingResponseJSON.json", "in_transit", None),
    ("royalmail", "royalmail/TrackingErrorResponseJSON.json", "unknown", "bad_response"),
    ("canadapost", "canadapost/TrackingResponseXml.xml", "delivered", None),
    ("canadapost", "canadapost/AuthError.xml", "unknown", "auth"),
    ("canadapost", "canadapost/UnknownTrackingNumberResponse.xml", "unknown", "not_found"),
]


@pytest.mark.parametrize(("carrier", "name", "status", "error"), SAMPLES)
def test_parse_prints_the_contract(app, carrier: str, name: str, status: str, error: str | None) -> None:
    path = CARRIER_SAMPLES / name
    if not path.exists():
        pytest.skip("shared carrier samples not available")
    result = app.test_cli_runner().invoke(args=["carriers", "parse", carrier, str(path)])
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.output)
    assert set(item) >= {"tracking_number", "status", "substatus", "estimated_delivery", "error", "events"}
    assert item["status"] == status
    assert (item["error"] or {}).get("code") == error
    for event in item["events"]:
        assert set(event) >= {"occurred_at", "status", "code", "description", "location"}
        assert event["occurred_at"][-6] in "+-"  # ISO 8601 with its offset


def test_aftership_webhook_body(app, tmp_path: Path) -> None:
    body = {"event": "tracking_update", "event_id": "e", "msg": {"tracking_number": "LX1", "tag": "Delivered",
            "subtag": "Delivered_005", "checkpoints": [{"checkpoint_time": "2026-11-23T10:00:00+01:00",
                                                       "tag": "Delivered", "subtag": "Delivered_005",
                                                       "message": "Consegnato al vicino"}]}}
    path = tmp_path / "webhook.json"
    path.write_text(json.dumps(body))
    result = app.test_cli_runner().invoke(args=["carriers", "parse", "aftership", str(path)])
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.output)
    assert item["status"] == "delivered" and item["delivered_to"] == "neighbour"
    assert item["events"][0]["occurred_at"] == "2026-11-23T10:00:00+01:00"


@pytest.mark.parametrize("carrier", ["dpd", "gls", "hermes", "laposte", "royalmail", "canadapost", "aftership"])
def test_other_formats_fail_with_one_line(app, tmp_path: Path, carrier: str) -> None:
    path = tmp_path / "body.txt"
    path.write_text("<html><body>Service Unavailable</body></html>")
    result = app.test_cli_runner().invoke(args=["carriers", "parse", carrier, str(path)])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1 and f"not a {carrier} response" in result.output
