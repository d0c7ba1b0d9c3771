"""A loopback fake of Klaviyo (events, bulk create jobs, accounts, OAuth token) that checks request shapes strictly."""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http import FakeService, Request, Response, route

REVISION = "2026-10-15"
JSON_API = "application/vnd.api+json"
MAX_BULK_EVENTS = 1000

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EVENT_KEYS = {"properties", "time", "value", "value_currency", "unique_id", "backfill", "metric", "profile"}
_PROFILE_KEYS = {"email", "phone_number", "external_id", "anonymous_id", "_kx", "first_name", "last_name",
                 "organization", "locale", "title", "image", "location", "properties"}
_PROFILE_IDS = ("email", "phone_number", "external_id", "anonymous_id", "_kx")
EVENTS_PATHS = ("/api/events", "/api/event-bulk-create-jobs")
PRIVATE_KEY = "pk_test_0123456789abcdef0123456789abcd"  # accepted by default, with accounts:read and events:write


@dataclass
class Fault:
    """Klaviyo misbehaving on the next events request, after the credentials were checked."""

    # "429", "500", "400", "401", "403"; "drop": accept, then close without answering; "slow": accept, answer late
    kind: str
    paths: tuple[str, ...] = EVENTS_PATHS
    retry_after: str | None = None
    errors: list[dict[str, Any]] | None = None
    delay: float = 1.0


class FakeKlaviyo(FakeService):
    """`with FakeKlaviyo() as fake:` then point the adapter at `fake.base_url`.

    Keeps accepted events in `events` by unique_id (first one wins, as Klaviyo does) and counts every acceptance
    in `deliveries`, so tests can tell "sent twice" from "recorded twice".
    """

    def __init__(
        self,
        *,
        revision: str = REVISION,
        private_keys: dict[str, set[str]] | None = None,
        oauth_clients: dict[str, str] | None = None,
        pointers: bool = True,
        latency: float = 0.0,
    ) -> None:
        super().__init__()
        self.revision = revision
        default_keys = {PRIVATE_KEY: {"accounts:read", "events:write"}}
        self.private_keys = private_keys if private_keys is not None else default_keys
        self.access_tokens: dict[str, set[str]] = {}
        self.oauth_clients = oauth_clients if oauth_clients is not None else {"client-1": "secret-1"}
        self.pointers = pointers  # False: 400 answers carry no source.pointer
        self.latency = latency
        self.account_id = "01HXYZACCOUNT"
        self.organization_name = "Parcel Test Shop"
        self.public_api_key = "AbC123"
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries: Counter[str] = Counter()
        self.faults: deque[Fault] = deque()
        self.refresh_tokens: dict[str, tuple[str, set[str]]] = {}  # refresh token -> (client_id, scopes)
        self._codes: dict[str, dict[str, Any]] = {}
        self._counter = itertools.count(1)
        self._state = threading.Lock()

    # --- test controls -------------------------------------------------------------------------------------------

    def inject(self, kind: str, *, times: int = 1, **options: Any) -> None:
        """Script Klaviyo faults for the next `times` event requests (see `Fault`)."""
        for _ in range(times):
            self.faults.append(Fault(kind=kind, **options))

    def authorize(self, url: str, *, scopes_granted: set[str] | None = None) -> tuple[str, str]:
        """Play the merchant clicking "Allow" on the authorize URL; returns (code, state) as the redirect would."""
        parts = urlsplit(url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        assert parts.path == "/oauth/authorize", parts.path
        assert query.get("response_type") == "code"
        assert query.get("client_id") in self.oauth_clients
        assert query.get("code_challenge_method") == "S256"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query.get("code_challenge", "")), "S256: base64url, no padding"
        assert query.get("redirect_uri") and query.get("state") and query.get("scope")
        code = f"code-{next(self._counter)}"
        scopes = scopes_granted if scopes_granted is not None else set(query["scope"].split())
        self._codes[code] = {"client_id": query["client_id"], "redirect_uri": query["redirect_uri"],
                             "challenge": query["code_challenge"], "scopes": scopes}
        return code, query["state"]

    def event_requests(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path in EVENTS_PATHS]

    # --- events ----------------------------------------------------------------------------------------------------

    def _event_write_prologue(self, request: Request) -> tuple[Fault | None, Response | None]:
        """Scope check and injected fault for the event-writing endpoints. "drop" and "slow" faults are
        returned for the handler to apply after it stored the events; other faults answer at once."""
        refused = self._refuse(request, "events:write")
        if refused:
            return None, refused
        fault = self._next_fault(request.path)
        if fault and fault.kind not in ("drop", "slow"):
            return fault, _fault_response(fault)
        return fault, None

    @route("POST", "/api/events")
    def create_event(self, request: Request) -> Response:
        fault, answer = self._event_write_prologue(request)
        if answer:
            return answer
        doc = _json(request.body)
        problems = _check_create_event(doc)
        if problems:
            return self._invalid(problems)
        attributes = doc["data"]["attributes"]
        self._store(attributes, attributes["profile"]["data"]["attributes"], via="single")
        return _accepted(fault)

    @route("POST", "/api/event-bulk-create-jobs")
    def bulk_create(self, request: Request) -> Response:
        fault, answer = self._event_write_prologue(request)
        if answer:
            return answer
        doc = _json(request.body)
        problems = _check_bulk(doc)
        if problems:
            return self._invalid(problems)  # all or nothing: nothing is stored
        for entry in doc["data"]["attributes"]["events-bulk-create"]["data"]:
            profile = entry["attributes"]["profile"]["data"]["attributes"]
            for event in entry["attributes"]["events"]["data"]:
                attributes = dict(event["attributes"])
                attributes.setdefault("backfill", entry["attributes"].get("backfill", False))
                self._store(attributes, profile, via="bulk")
        return _accepted(fault)

    def _store(self, attributes: dict[str, Any], profile: dict[str, Any], *, via: str) -> None:
        unique_id = attributes.get("unique_id") or str(attributes.get("time"))
        with self._state:
            self.deliveries[unique_id] += 1
            # Klaviyo records only the first event for a unique_id (per profile and metric).
            self.events.setdefault(unique_id, {
                "metric": attributes["metric"]["data"]["attributes"]["name"],
                "time": attributes.get("time"),
                "properties": attributes["properties"],
                "value": attributes.get("value"),
                "value_currency": attributes.get("value_currency"),
                "backfill": bool(attributes.get("backfill", False)),
                "profile": profile,
                "via": via,
            })

    def _next_fault(self, path: str) -> Fault | None:
        if self.latency:
            time.sleep(self.latency)
        with self._state:
            if self.faults and path in self.faults[0].paths:
                return self.faults.popleft()
        return None

    def _invalid(self, problems: list[tuple[str, str]]) -> Response:
        errors = []
        for pointer, detail in problems:
            error = _error(400, "invalid", "Invalid input.", detail)
            if self.pointers:
                error["source"] = {"pointer": pointer}
            errors.append(error)
        return _api_json({"errors": errors}, status=400)

    def _refuse(self, request: Request, scope: str) -> Response | None:
        """Klaviyo's /api checks in order: credentials, scope, revision, media types."""
        auth = request.header("authorization") or ""
        scopes: set[str] | None = None
        if auth.startswith("Klaviyo-API-Key "):
            scopes = self.private_keys.get(auth[len("Klaviyo-API-Key "):])
        elif auth.startswith("Bearer "):
            scopes = self.access_tokens.get(auth[len("Bearer "):])
        if scopes is None:
            return _api_error(401, "not_authenticated", "Authentication credentials were not provided.",
                              "Missing or invalid private key.")
        if scope not in scopes:
            return _api_error(403, "permission_denied", "You do not have permission to perform this action.",
                              f"This API key is missing required scopes: {scope}.")
        if request.header("revision") != self.revision:
            return _api_error(400, "invalid", "Invalid input.",
                              f"Invalid or missing revision header: {request.header('revision')!r}")
        if JSON_API not in (request.header("accept") or ""):
            return _api_error(406, "not_acceptable", "Not acceptable.", f"Accept must include {JSON_API}")
        if request.method == "POST" and not (request.header("content-type") or "").startswith(JSON_API):
            return _api_error(415, "unsupported_media_type", "Unsupported media type.",
                              f"Content-Type must be {JSON_API}")
        return None

    # --- accounts --------------------------------------------------------------------------------------------------

    @route("GET", "/api/accounts")
    def accounts(self, request: Request) -> Response:
        refused = self._refuse(request, "accounts:read")
        if refused:
            return refused
        early = _early_answer(self._next_fault(request.path))
        if early:
            return early
        base = f"http://{request.header('host', '127.0.0.1')}"
        return _api_json({
            "data": [{
                "type": "account",
                "id": self.account_id,
                "attributes": {
                    "test_account": False,
                    "contact_information": {
                        "default_sender_name": self.organization_name,
                        "default_sender_email": "shop@example.com",
                        "website_url": "https://shop.example.com",
                        "organization_name": self.organization_name,
                        "street_address": {"address1": "Hauptstr. 1", "address2": None, "city": "Berlin",
                                           "region": "BE", "country": "DE", "zip": "10115"},
                    },
                    "industry": "Retail",
                    "timezone": "Europe/Berlin",
                    "preferred_currency": "EUR",
                    "public_api_key": self.public_api_key,
                    "locale": "de-DE",
                },
                "links": {"self": f"{base}/api/accounts/{self.account_id}/"},
            }],
            "links": {"self": f"{base}/api/accounts/", "next": None, "prev": None},
        })

    # --- OAuth -----------------------------------------------------------------------------------------------------

    @route("POST", "/oauth/token")
    def token(self, request: Request) -> Response:
        early = _early_answer(self._next_fault(request.path))
        if early:
            return early
        if not (request.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            return Response.json({"error": "invalid_request", "error_description": "form body expected"}, status=400)
        client_id = _basic_client(request.header("authorization") or "", self.oauth_clients)
        if client_id is None:
            return Response.json({"error": "invalid_client", "error_description": "Client authentication failed"},
                                 status=401)
        form = request.form()
        if form.get("grant_type") == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)  # a code works once
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or grant["client_id"] != client_id or grant["redirect_uri"] != form.get("redirect_uri")
                    or grant["challenge"] != challenge):
                return Response.json({"error": "invalid_grant", "error_description": "Invalid code or verifier"},
                                     status=400)
            refresh_token = f"rt-{next(self._counter)}"
            self.refresh_tokens[refresh_token] = (client_id, grant["scopes"])
            scopes = grant["scopes"]
        elif form.get("grant_type") == "refresh_token":
            known = self.refresh_tokens.get(form.get("refresh_token", ""))
            if known is None or known[0] != client_id:
                return Response.json({"error": "invalid_grant", "error_description": "Refresh token revoked"},
                                     status=400)
            refresh_token, scopes = form["refresh_token"], known[1]
        else:
            return Response.json({"error": "unsupported_grant_type"}, status=400)
        access_token = f"at-{next(self._counter)}"
        self.access_tokens[access_token] = set(scopes)
        return Response.json({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                              "refresh_token": refresh_token, "scope": " ".join(sorted(scopes))})


def _accepted(fault: Fault | None) -> Response:
    if fault and fault.kind == "drop":
        return Response(drop=True)  # stored, but the client never hears so
    return Response(status=202, delay=fault.delay if fault and fault.kind == "slow" else 0.0)


def _early_answer(fault: Fault | None) -> Response | None:
    """For endpoints that store nothing: "drop" closes at once, "slow" answers normally but late."""
    if fault is None:
        return None
    if fault.kind == "drop":
        return Response(drop=True)
    if fault.kind == "slow":
        time.sleep(fault.delay)
        return None
    return _fault_response(fault)


def _fault_response(fault: Fault) -> Response:
    status = int(fault.kind)
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    if fault.errors is not None:
        return _api_json({"errors": fault.errors}, status=status, headers=headers)
    code = {429: "throttled", 401: "not_authenticated", 403: "permission_denied"}.get(
        status, "error" if status >= 500 else "invalid")
    title = "Request was throttled." if status == 429 else "Injected fault."
    return _api_json({"errors": [_error(status, code, title, f"injected {status}")]}, status=status, headers=headers)


def _api_json(payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response.json(payload, status=status, headers={"Content-Type": JSON_API, **(headers or {})})


def _api_error(status: int, code: str, title: str, detail: str) -> Response:
    return _api_json({"errors": [_error(status, code, title, detail)]}, status=status)


def _error(status: int, code: str, title: str, detail: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "status": status, "code": code, "title": title, "detail": detail,
            "links": {}, "meta": {}}


# --- shape checks (what Klaviyo's JSON:API validation would reject) ---------------------------------------------------


def _check_create_event(doc: Any) -> list[tuple[str, str]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        return [("/data", "data must be an object")]
    data = doc["data"]
    if data.get("type") != "event":
        return [("/data/type", f"type must be 'event', not {data.get('type')!r}")]
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        return [("/data/attributes", "attributes must be an object")]
    problems = _check_event_attributes(attributes, "/data/attributes", with_profile=True)
    return problems


def _check_bulk(doc: Any) -> list[tuple[str, str]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        return [("/data", "data must be an object")]
    if doc["data"].get("type") != "event-bulk-create-job":
        return [("/data/type", "type must be 'event-bulk-create-job'")]
    bulk = (doc["data"].get("attributes") or {}).get("events-bulk-create")
    entries = bulk.get("data") if isinstance(bulk, dict) else None
    base = "/data/attributes/events-bulk-create/data"
    if not isinstance(entries, list) or not entries:
        return [(base, "events-bulk-create.data must be a non-empty list")]
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    total = 0
    for index, entry in enumerate(entries):
        pointer = f"{base}/{index}"
        if not isinstance(entry, dict) or entry.get("type") != "event-bulk-create":
            problems.append((f"{pointer}/type", "type must be 'event-bulk-create'"))
            continue
        attributes = entry.get("attributes") or {}
        unknown = set(attributes) - {"backfill", "profile", "events"}
        if unknown:
            problems.append((f"{pointer}/attributes", f"unknown attributes {sorted(unknown)}"))
        if "backfill" in attributes and not isinstance(attributes["backfill"], bool):
            problems.append((f"{pointer}/attributes/backfill", "backfill must be a boolean"))
        problems += _check_profile(attributes.get("profile"), f"{pointer}/attributes/profile")
        events = (attributes.get("events") or {}).get("data")
        if not isinstance(events, list) or not events:
            problems.append((f"{pointer}/attributes/events/data", "events.data must be a non-empty list"))
            continue
        profile_key = json.dumps((attributes.get("profile") or {}).get("data", {}).get("attributes"), sort_keys=True)
        for position, event in enumerate(events):
            event_pointer = f"{pointer}/attributes/events/data/{position}"
            total += 1
            if not isinstance(event, dict) or event.get("type") != "event":
                problems.append((f"{event_pointer}/type", "type must be 'event'"))
                continue
            event_attributes = event.get("attributes") or {}
            problems += _check_event_attributes(event_attributes, f"{event_pointer}/attributes", with_profile=False)
            key = (profile_key, str(event_attributes.get("unique_id")))
            if event_attributes.get("unique_id") is not None:
                if key in seen:
                    problems.append((f"{event_pointer}/attributes/unique_id", "unique_id repeated in this request"))
                seen.add(key)
    if total > MAX_BULK_EVENTS:
        problems.append((base, f"at most {MAX_BULK_EVENTS} events per request"))
    return problems


def _check_event_attributes(attributes: dict[str, Any], pointer: str, *, with_profile: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    allowed = _EVENT_KEYS if with_profile else _EVENT_KEYS - {"profile"}
    unknown = set(attributes) - allowed
    if unknown:
        problems.append((pointer, f"unknown attributes {sorted(unknown)}"))
    if not isinstance(attributes.get("properties"), dict):
        problems.append((f"{pointer}/properties", "properties is required and must be an object"))
    if "time" in attributes:
        try:
            moment = datetime.fromisoformat(str(attributes["time"]))
            if moment.tzinfo is None or moment.year < 1990:
                raise ValueError
        except ValueError:
            problems.append((f"{pointer}/time", f"time must be ISO 8601 with an offset: {attributes['time']!r}"))
    if "value" in attributes and (isinstance(attributes["value"], bool)
                                  or not isinstance(attributes["value"], (int, float))):
        problems.append((f"{pointer}/value", "value must be a number"))
    if "value_currency" in attributes and not _CURRENCY.match(str(attributes["value_currency"])):
        problems.append((f"{pointer}/value_currency", "value_currency must be an ISO 4217 code"))
    if "unique_id" in attributes and not isinstance(attributes["unique_id"], str):
        problems.append((f"{pointer}/unique_id", "unique_id must be a string"))
    if "backfill" in attributes and not isinstance(attributes["backfill"], bool):
        problems.append((f"{pointer}/backfill", "backfill must be a boolean"))
    metric = (attributes.get("metric") or {}).get("data") if isinstance(attributes.get("metric"), dict) else None
    if not isinstance(metric, dict) or metric.get("type") != "metric":
        problems.append((f"{pointer}/metric/data/type", "metric.data.type must be 'metric'"))
    else:
        name = (metric.get("attributes") or {}).get("name")
        if not isinstance(name, str) or not name or len(name) >= 128:
            problems.append((f"{pointer}/metric/data/attributes/name", "metric name must be 1-127 characters"))
    if with_profile:
        problems += _check_profile(attributes.get("profile"), f"{pointer}/profile")
    return problems


def _check_profile(profile: Any, pointer: str) -> list[tuple[str, str]]:
    data = profile.get("data") if isinstance(profile, dict) else None
    if not isinstance(data, dict) or data.get("type") != "profile":
        return [(f"{pointer}/data/type", "profile.data.type must be 'profile'")]
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        return [(f"{pointer}/data/attributes", "profile attributes must be an object")]
    base = f"{pointer}/data/attributes"
    problems: list[tuple[str, str]] = []
    unknown = set(attributes) - _PROFILE_KEYS
    if unknown:
        problems.append((base, f"unknown profile attributes {sorted(unknown)}"))
    # Stricter than Klaviyo on purpose: an explicit null would clear what the merchant already has on the profile.
    nulls = sorted(key for key, value in attributes.items() if value is None)
    if nulls:
        problems.append((base, f"null profile attributes would clear existing data: {nulls}"))
    if not any(attributes.get(key) for key in _PROFILE_IDS):
        problems.append((base, "a profile needs an email, phone_number, external_id or anonymous_id"))
    if attributes.get("email") is not None and not _EMAIL.match(str(attributes["email"])):
        problems.append((f"{base}/email", f"Invalid email address: {attributes['email']!r}"))
    if attributes.get("phone_number") is not None and not _E164.match(str(attributes["phone_number"])):
        problems.append((f"{base}/phone_number",
                         "Invalid phone number format (Example of a valid format: +12345678901)"))
    if "properties" in attributes and not isinstance(attributes["properties"], dict):
        problems.append((f"{base}/properties", "properties must be an object"))
    return problems


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def _basic_client(header: str, clients: dict[str, str]) -> str | None:
    if not header.startswith("Basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[len("Basic "):]).decode().partition(":")
    except ValueError:
        return None
    return client_id if clients.get(client_id) == secret else None
