"""A loopback fake of AfterShip's Tracking API (2024-04) that also signs webhooks the way AfterShip does."""
from __future__ import annotations

import json
from typing import Any

from integrations.carriers.aftership import sign
from tests.fakes.carriers import FakeCarrier
from tests.fakes.http import Request, Response, route

API = "/tracking/2024-04"


class FakeAfterShip(FakeCarrier):
    api_key = "as-key"
    webhook_secret = "as-webhook-secret"

    def __init__(self) -> None:
        super().__init__()
        self.registered: dict[str, dict[str, Any]] = {}  # number -> tracking object
        self.rejected: set[str] = set()  # numbers AfterShip cannot detect a courier for

    def _auth(self, request: Request) -> Response | None:
        if request.header("as-api-key") != self.api_key:
            return Response.json({"meta": {"code": 401, "type": "Unauthorized", "message": "Invalid API key."},
                                  "data": {}}, status=401)
        return self._count_call()

    @route("GET", f"{API}/trackings")
    def list(self, request: Request) -> Response:
        denied = self._auth(request)
        if denied:
            return denied
        wanted = [n for n in (request.arg("tracking_numbers") or "").split(",") if n]
        found = [self.registered[n] for n in wanted if n in self.registered] if wanted else list(self.registered.values())
        return Response.json({"meta": {"code": 200}, "data": {"trackings": found[: int(request.arg("limit") or 100)]}},
                             delay=self._delay_for(wanted))

    @route("POST", f"{API}/trackings")
    def create(self, request: Request) -> Response:
        denied = self._auth(request)
        if denied:
            return denied
        number = str(request.json().get("tracking_number") or "")
        if number in self.rejected:
            return Response.json({"meta": {"code": 4010, "type": "BadRequest",
                                           "message": "Cannot detect courier. Activate courier at https://..."},
                                  "data": {}}, status=400)
        if number in self.registered:
            return Response.json({"meta": {"code": 4003, "type": "BadRequest", "message": "Tracking already exists."},
                                  "data": {"tracking": self.registered[number]}}, status=400)
        tracking = {"id": f"as-{len(self.registered) + 1}", "tracking_number": number, "slug": "poste-italiane",
                    "tag": "Pending", "subtag": "Pending_001", "checkpoints": []}
        self.registered[number] = tracking
        return Response.json({"meta": {"code": 201}, "data": tracking}, status=201)

    # -- what AfterShip would push --------------------------------------------------------------------------

    def advance(self, number: str, *, tag: str, subtag: str, message: str, at: str, city: str = "Milano",
                country: str = "ITA") -> None:
        tracking = self.registered[number]
        tracking["tag"], tracking["subtag"] = tag, subtag
        tracking["checkpoints"].append({"checkpoint_time": at, "tag": tag, "subtag": subtag, "message": message,
                                        "city": city, "country_region": country, "slug": tracking["slug"]})

    def webhook(self, number: str, *, event_id: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"event": "tracking_update", "event_id": event_id, "is_tracking_first_tag": False,
                           "msg": self.registered[number], "ts": 1795000000}).encode()
        return body, {"aftership-hmac-sha256": sign(body, self.webhook_secret), "Content-Type": "application/json"}
