"""Loopback fakes of the carrier tracking APIs (DHL Unified, DHL Parcel DE, UPS, FedEx, USPS), in their real shapes."""
from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

import pytest

from integrations.carriers.transport import RetryPolicy
from tests.fakes.http import FakeService, Request, Response, route


class FakeCarrier(FakeService):
    """Common parts: per-number answers, numbers that answer slowly, a daily quota, OAuth tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.tracked: dict[str, Any] = {}  # number -> the carrier's data for it
        self.slow: dict[str, float] = {}  # number -> seconds before answering
        self.quota: int | None = None  # tracking calls allowed before 429
        self.retry_after = "3600"
        self.calls = 0
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.client = ("client-id", "client-secret")
        self._counter = threading.Lock()

    # -- helpers ------------------------------------------------------------------------------------------

    def _count_call(self) -> Response | None:
        with self._counter:
            self.calls += 1
            if self.quota is not None and self.calls > self.quota:
                return Response.json({"title": "Too many requests", "status": 429}, status=429,
                                     headers={"Retry-After": self.retry_after})
        return None

    def _delay_for(self, numbers: list[str]) -> float:
        return max((self.slow.get(n, 0.0) for n in numbers), default=0.0)

    def issue_token(self) -> str:
        with self._counter:
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return token

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    def bearer_ok(self, request: Request) -> bool:
        header = request.header("Authorization") or ""
        return header.startswith("Bearer ") and header[7:] in self.valid_tokens

    def token_response(self, client_id: str | None, client_secret: str | None) -> Response:
        if (client_id, client_secret) != self.client:
            return Response.json({"error": "invalid_client", "error_description": "Client authentication failed."},
                                 status=401)
        return Response.json({"access_token": self.issue_token(), "token_type": "Bearer", "expires_in": 3599})


class FakeDhl(FakeCarrier):
    api_key = "dhl-key"

    @route("GET", "/track/shipments")
    def shipments(self, request: Request) -> Response:
        if request.header("DHL-API-Key") != self.api_key:
            return Response.json({"status": 401, "title": "Unauthorized", "detail": "Invalid API key"}, status=401)
        limited = self._count_call()
        if limited:
            return limited
        number = request.arg("trackingNumber") or ""
        delay = self._delay_for([number])
        if number not in self.tracked:
            return Response.json({"title": "No result found", "status": 404, "instance": f"/shipment/{number}",
                                  "detail": "No shipment with given tracking number found."}, status=404,
                                 delay=delay)
        return Response.json({"shipments": [self.tracked[number]]}, delay=delay)


class FakeDhlParcelDe(FakeCarrier):
    api_key = "dhl-key"
    credentials = ("zt12345", "geheim")

    @route("GET", "/shipments")
    def shipments(self, request: Request) -> Response:
        if request.header("DHL-API-Key") != self.api_key:
            return Response.json({"status": 401, "title": "Unauthorized"}, status=401)
        limited = self._count_call()
        if limited:
            return limited
        query = ET.fromstring(request.arg("xml") or "<data/>")
        if (query.get("appname"), query.get("password")) != self.credentials:
            return Response.text('<?xml version="1.0"?><data name="piece-shipment-list" code="1" '
                                 'error="Login failed: wrong appname or password"/>', content_type="application/xml")
        numbers = (query.get("piece-code") or "").split(";")
        found = [self.tracked[n] for n in numbers if n in self.tracked]
        delay = self._delay_for(numbers)
        if not found:
            return Response.text('<?xml version="1.0"?><data name="piece-shipment-list" code="100" '
                                 'error="No data found"/>', content_type="application/xml", delay=delay)
        body = '<?xml version="1.0"?><data name="piece-shipment-list" code="0">' + "".join(found) + "</data>"
        return Response.text(body, content_type="application/xml", delay=delay)


class FakeUps(FakeCarrier):
    @route("POST", "/security/v1/oauth/token")
    def token(self, request: Request) -> Response:
        header = request.header("Authorization") or ""
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if request.form().get("grant_type") != "client_credentials":
            return Response.json({"response": {"errors": [{"code": "10400", "message": "bad grant"}]}}, status=400)
        return self.token_response(user, password)

    @route("GET", "/api/track/v1/details/{number}")
    def details(self, request: Request) -> Response:
        if not self.bearer_ok(request):
            return Response.json({"response": {"errors": [{"code": "250002", "message": "Invalid Authentication"}]}},
                                 status=401)
        limited = self._count_call()
        if limited:
            return limited
        number = request.path_params["number"]
        delay = self._delay_for([number])
        if number not in self.tracked:
            return Response.json({"response": {"errors": [{"code": "TW0001",
                                                           "message": "Tracking Information Not Found"}]}},
                                 status=404, delay=delay)
        return Response.json({"trackResponse": {"shipment": [self.tracked[number]]}}, delay=delay)


class FakeFedex(FakeCarrier):
    @route("POST", "/oauth/token")
    def token(self, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return Response.json({"errors": [{"code": "BAD.REQUEST.ERROR", "message": "grant"}]}, status=400)
        return self.token_response(form.get("client_id"), form.get("client_secret"))

    @route("POST", "/track/v1/trackingnumbers")
    def track(self, request: Request) -> Response:
        if not self.bearer_ok(request):
            return Response.json({"errors": [{"code": "NOT.AUTHORIZED.ERROR",
                                              "message": "Access token expired."}]}, status=401)
        limited = self._count_call()
        if limited:
            return limited
        body = request.json()
        numbers = [i["trackingNumberInfo"]["trackingNumber"] for i in body.get("trackingInfo", [])]
        if len(numbers) > 30:
            return Response.json({"errors": [{"code": "TRACKING.TRACKINGNUMBER.LIMIT",
                                              "message": "Maximum 30 tracking numbers"}]}, status=400)
        results = []
        for number in numbers:
            if number in self.tracked:
                results.append({"trackingNumber": number, "trackResults": [self.tracked[number]]})
            else:
                results.append({"trackingNumber": number, "trackResults": [{
                    "trackingNumberInfo": {"trackingNumber": number},
                    "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                              "message": "Tracking number cannot be found."}}]})
        return Response.json({"transactionId": "t-1", "output": {"completeTrackResults": results}},
                             delay=self._delay_for(numbers))


class FakeUsps(FakeCarrier):
    @route("POST", "/oauth2/v3/token")
    def token(self, request: Request) -> Response:
        if "json" in (request.header("Content-Type") or ""):
            form = request.json()
        else:
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        return self.token_response(form.get("client_id"), form.get("client_secret"))

    @route("GET", "/tracking/v3/tracking/{number}")
    def tracking(self, request: Request) -> Response:
        if not self.bearer_ok(request):
            return Response.json({"error": {"code": "401", "message": "Unauthorized"}}, status=401)
        limited = self._count_call()
        if limited:
            return limited
        number = request.path_params["number"]
        delay = self._delay_for([number])
        if number not in self.tracked:
            return Response.json({"apiVersion": "3.0", "error": {"code": "404", "message": "Not Found", "errors": [
                {"status": "404", "code": "1600", "title": "The tracking number is not found",
                 "detail": f"{number} not found"}]}}, status=404, delay=delay)
        return Response.json({**self.tracked[number], "trackingNumber": number}, delay=delay)


# Short timeouts and almost no backoff keep fault tests fast.
FAST_TIMEOUT = (0.5, 0.15)
FAST_POLICY = RetryPolicy(retries=2, backoff=0.01, max_backoff=0.02, max_total_wait=0.5, max_retry_after_sleep=0.05)

SHARED = Path(__file__).resolve().parents[3] / "shared"
CARRIER_SAMPLES = SHARED / "carrier-samples"
VENDOR_CARRIERS = SHARED / "vendor-samples" / "carriers"


def sample(folder: str, name: str) -> bytes:
    """A recorded carrier body from the shared samples (read in place, never copied); skip when absent."""
    path = CARRIER_SAMPLES / folder / name
    if not path.exists():
        pytest.skip(f"shared carrier samples not available: {path}")
    return path.read_bytes()


def vendor_sample(name: str) -> bytes:
    path = VENDOR_CARRIERS / name
    if not path.exists():
        pytest.skip(f"shared vendor samples not available: {path}")
    return path.read_bytes()
