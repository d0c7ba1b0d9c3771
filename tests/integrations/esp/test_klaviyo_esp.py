"""KlaviyoEsp against the loopback fake Klaviyo: request shapes, outcomes, faults, bulk isolation and key checks."""
from __future__ import annotations

import json
import socket
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from klaviyo_api import KlaviyoAPI

from integrations.errors import PermanentError
from integrations.esp.base import Esp, Profile
from integrations.esp.klaviyo import (
    BULK_CREATE_EVENTS_LIMIT,
    CREATE_EVENT_LIMIT,
    MAX_BULK_EVENTS,
    REVISION,
    KlaviyoEsp,
    validate_private_key,
)
from tests.fakes.klaviyo import PRIVATE_KEY, FakeKlaviyo

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "vendor-samples" / "klaviyo"


def esp_for(fake: FakeKlaviyo, **kwargs: Any) -> KlaviyoEsp:
    options: dict[str, Any] = {"api_key": PRIVATE_KEY, "base_url": fake.base_url, "timeout": 2.0}
    options.update(kwargs)
    if "access_token" in kwargs:
        options.pop("api_key")
    return KlaviyoEsp(**options)


def test_satisfies_the_esp_protocol(fake_klaviyo: FakeKlaviyo) -> None:
    esp = esp_for(fake_klaviyo)
    assert isinstance(esp, Esp)
    assert (esp.code, esp.max_batch) == ("klaviyo", 1000)
    assert PRIVATE_KEY not in repr(esp)


def test_revision_is_the_one_the_sdk_models_were_generated_for() -> None:
    assert REVISION == KlaviyoAPI._REVISION


def test_documented_limits_are_exposed() -> None:
    assert (CREATE_EVENT_LIMIT.burst_per_second, CREATE_EVENT_LIMIT.steady_per_minute) == (350, 3500)
    assert (BULK_CREATE_EVENTS_LIMIT.burst_per_second, BULK_CREATE_EVENTS_LIMIT.steady_per_minute) == (10, 150)
    assert MAX_BULK_EVENTS == 1000


def test_one_event_goes_to_create_event_with_the_json_api_shape(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    event = make_event(properties={"order_total": Decimal("59.90"), "currency": "eur", "order_number": "#1001"})

    [outcome] = esp_for(fake_klaviyo).send(events=[event])

    assert outcome.accepted and not outcome.permanent and outcome.error is None
    [request] = fake_klaviyo.event_requests()
    assert request.path == "/api/events"
    assert request.header("authorization") == f"Klaviyo-API-Key {PRIVATE_KEY}"
    assert request.header("revision") == REVISION
    assert request.header("content-type").startswith("application/vnd.api+json")
    body = request.json()
    attributes = body["data"]["attributes"]
    assert body["data"]["type"] == "event"
    assert attributes["metric"] == {"data": {"type": "metric", "attributes": {"name": "Order Shipped"}}}
    assert attributes["unique_id"] == event.unique_id
    assert attributes["time"] == "2025-06-02T09:30:15+00:00"  # ISO 8601, UTC, whole seconds as Klaviyo keeps it
    assert (attributes["value"], attributes["value_currency"]) == (59.9, "EUR")
    assert attributes["backfill"] is False and attributes["properties"]["backfill"] is False
    assert attributes["profile"]["data"] == {"type": "profile", "attributes": {
        "email": "ada@example.com", "phone_number": "+4915123456789", "external_id": event.profile.external_id,
        "first_name": "Ada", "last_name": "Lovelace", "properties": {"locale": "de-DE"}}}
    assert fake_klaviyo.events[event.unique_id]["via"] == "single"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="vendor samples not available")
def test_body_has_the_skeleton_of_klaviyos_own_examples(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    esp_for(fake_klaviyo).send(events=[make_event()])
    ours = fake_klaviyo.event_requests()[0].json()
    for sample in sorted(SAMPLES.glob("create_event_request_*.json")):
        theirs = json.loads(sample.read_text())
        assert ours["data"]["type"] == theirs["data"]["type"]
        mine, sample = ours["data"]["attributes"], theirs["data"]["attributes"]
        for key in ("properties", "metric", "profile"):
            assert key in mine and key in sample
        assert mine["metric"]["data"]["type"] == sample["metric"]["data"]["type"]
        assert set(mine["metric"]["data"]["attributes"]) <= set(sample["metric"]["data"]["attributes"])
        assert mine["profile"]["data"]["type"] == sample["profile"]["data"]["type"]


def test_oauth_access_token_is_sent_as_bearer(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    fake_klaviyo.access_tokens["at-test"] = {"events:write", "accounts:read"}
    [outcome] = esp_for(fake_klaviyo, access_token="at-test").send(events=[make_event()])
    assert outcome.accepted
    assert fake_klaviyo.event_requests()[0].header("authorization") == "Bearer at-test"


def test_exactly_one_credential_is_required() -> None:
    with pytest.raises(ValueError):
        KlaviyoEsp()
    with pytest.raises(ValueError):
        KlaviyoEsp(api_key=PRIVATE_KEY, access_token="at")


def test_several_events_go_out_as_one_bulk_job(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    events = [make_event(backfill=(i == 3)) for i in range(25)]

    outcomes = esp_for(fake_klaviyo).send(events=events)

    assert all(o.accepted for o in outcomes)
    [request] = fake_klaviyo.event_requests()
    assert request.path == "/api/event-bulk-create-jobs"
    body = request.json()
    assert body["data"]["type"] == "event-bulk-create-job"
    entries = body["data"]["attributes"]["events-bulk-create"]["data"]
    assert len(entries) == 25 and entries[0]["type"] == "event-bulk-create"
    assert entries[0]["attributes"]["events"]["data"][0]["type"] == "event"
    assert set(fake_klaviyo.events) == {e.unique_id for e in events}
    assert all(stored["via"] == "bulk" for stored in fake_klaviyo.events.values())
    # stale news: recorded with Klaviyo's backfill flag (no flows) and marked in the properties as well
    stale = fake_klaviyo.events[events[3].unique_id]
    assert stale["backfill"] is True and stale["properties"]["backfill"] is True
    assert entries[3]["attributes"]["backfill"] is True
    assert fake_klaviyo.events[events[4].unique_id]["backfill"] is False


def test_more_than_a_thousand_events_are_split_into_jobs(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    events = [make_event(properties={"n": i}) for i in range(2001)]
    outcomes = esp_for(fake_klaviyo, timeout=10.0).send(events=events)
    assert all(o.accepted for o in outcomes)
    requests = fake_klaviyo.event_requests()
    sizes = [len(r.json()["data"]["attributes"]["events-bulk-create"]["data"]) for r in requests[:2]]
    assert sizes == [1000, 1000]
    assert requests[2].path == "/api/events"  # a lone remainder goes as a single event
    assert len(fake_klaviyo.events) == 2001


def test_a_throttled_chunk_stops_the_following_ones(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    events = [make_event(properties={"n": i}) for i in range(1500)]
    fake_klaviyo.inject("429", retry_after="20")
    outcomes = esp_for(fake_klaviyo, timeout=10.0).send(events=events)
    assert {o.retry_after for o in outcomes} == {20.0}
    assert len(fake_klaviyo.event_requests()) == 1


def test_a_repeated_unique_id_in_one_batch_is_sent_once(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    first = make_event(unique_id="store-1:shipment-9:Order Shipped")
    events = [first, make_event(), first]
    outcomes = esp_for(fake_klaviyo).send(events=events)
    assert [o.unique_id for o in outcomes] == [e.unique_id for e in events]
    assert all(o.accepted for o in outcomes)
    assert fake_klaviyo.deliveries[first.unique_id] == 1


@pytest.mark.parametrize("batch", [1, 40], ids=["single", "bulk"])
@pytest.mark.parametrize("fault", ["429", "500", "drop", "slow"])
def test_no_event_lost_or_duplicated_across_faults(
    fake_klaviyo: FakeKlaviyo, make_event: Any, deliver: Any, fault: str, batch: int
) -> None:
    events = [make_event() for _ in range(batch)]
    fake_klaviyo.inject(fault, times=2, retry_after="7" if fault == "429" else None, delay=1.0)
    esp = esp_for(fake_klaviyo, timeout=0.5)

    first = esp.send(events=events)
    final = deliver(esp, events)

    assert all(not o.accepted and not o.permanent and o.error for o in first), first
    if fault == "429":
        assert {o.retry_after for o in first} == {7.0}
    else:
        assert {o.retry_after for o in first} == {None}  # the caller's backoff decides
    assert all(o.accepted for o in final.values())
    assert set(fake_klaviyo.events) == {e.unique_id for e in events}  # zero lost
    assert len(fake_klaviyo.events) == batch  # zero duplicated: Klaviyo keeps one per unique_id
    if fault in ("drop", "slow"):
        # Klaviyo got the same events more than once (the answer was lost) and kept each once.
        assert all(fake_klaviyo.deliveries[e.unique_id] >= 2 for e in events)


def test_validation_error_on_one_event_is_permanent_with_klaviyos_detail(
    fake_klaviyo: FakeKlaviyo, make_event: Any
) -> None:
    [outcome] = esp_for(fake_klaviyo).send(events=[make_event(email="not-an-email")])
    assert outcome.permanent and not outcome.accepted and outcome.retry_after is None
    assert "Invalid email address" in (outcome.error or "")
    assert not fake_klaviyo.events


def test_injected_400_errors_body_is_reported(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    fake_klaviyo.inject("400", errors=[{"id": "x", "status": 400, "code": "invalid", "title": "Invalid input.",
                                        "detail": "The metric name is reserved.", "source": {"pointer": "/data"}}])
    [outcome] = esp_for(fake_klaviyo).send(events=[make_event()])
    assert outcome.permanent and outcome.error == "The metric name is reserved."


@pytest.mark.parametrize("pointers", [True, False], ids=["with-pointer", "without-pointer"])
def test_bulk_with_one_bad_event_sends_the_rest(
    make_event: Any, deliver: Any, pointers: bool
) -> None:
    with FakeKlaviyo(pointers=pointers) as fake:
        events = [make_event() for _ in range(30)]
        bad = make_event(email="ada@@example")
        events.insert(17, bad)

        final = deliver(esp_for(fake), events)

        assert final[bad.unique_id].permanent
        assert "Invalid email address" in (final[bad.unique_id].error or "")
        good = [e.unique_id for e in events if e is not bad]
        assert all(final[uid].accepted for uid in good)
        assert set(fake.events) == set(good)
        assert all(fake.deliveries[uid] == 1 for uid in good)
        if pointers:
            # the pointer names the bad entry: one rejected job, then one job with the 30 others
            assert len(fake.event_requests()) == 2


def test_wrong_key_and_missing_scope_mark_events_auth_failed(
    fake_klaviyo: FakeKlaviyo, make_event: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    events = [make_event(), make_event()]
    wrong = esp_for(fake_klaviyo, api_key="pk_wrong_0000000000000000000000000").send(events=events)
    assert "pk_wrong" not in caplog.text and PRIVATE_KEY not in caplog.text
    assert all(o.auth_failed and not o.accepted and not o.permanent for o in wrong)
    assert "reconnect" in (wrong[0].error or "")

    fake_klaviyo.private_keys["pk_readonly_00000000000000000000000"] = {"accounts:read"}
    denied = esp_for(fake_klaviyo, api_key="pk_readonly_00000000000000000000000").send(events=events)
    assert all(o.auth_failed for o in denied)
    assert "events:write" in (denied[0].error or "")
    assert not fake_klaviyo.events


def test_unreachable_klaviyo_is_a_retry(make_event: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    esp = KlaviyoEsp(api_key=PRIVATE_KEY, base_url=f"http://127.0.0.1:{port}", timeout=1.0)
    [outcome] = esp.send(events=[make_event()])
    assert not outcome.accepted and not outcome.permanent and outcome.retry_after is None
    assert "Klaviyo" in (outcome.error or "")


def test_profile_without_identifier_fails_without_a_request(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    event = replace(make_event(), profile=Profile(phone_number="12", first_name="Ada"))
    [outcome] = esp_for(fake_klaviyo).send(events=[event])
    assert outcome.permanent and "email" in (outcome.error or "")
    assert not fake_klaviyo.requests


def test_unreadable_phone_is_dropped_but_the_event_goes(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    event = make_event(phone="12345")
    [outcome] = esp_for(fake_klaviyo).send(events=[event])
    assert outcome.accepted
    assert "phone_number" not in fake_klaviyo.events[event.unique_id]["profile"]


# --- validate_private_key -------------------------------------------------------------------------------------------


def test_validate_private_key_returns_the_account(fake_klaviyo: FakeKlaviyo) -> None:
    account = validate_private_key(api_key=PRIVATE_KEY, base_url=fake_klaviyo.base_url, timeout=2.0)
    assert (account.id, account.name, account.public_api_key) == ("01HXYZACCOUNT", "Parcel Test Shop", "AbC123")
    assert fake_klaviyo.requests[0].header("revision") == REVISION


def test_public_site_id_is_refused_with_a_hint(fake_klaviyo: FakeKlaviyo) -> None:
    with pytest.raises(PermanentError) as caught:
        validate_private_key(api_key="AbC123", base_url=fake_klaviyo.base_url)
    assert caught.value.code == "public_key"
    assert "public site ID" in str(caught.value) and "pk_" in str(caught.value)
    assert not fake_klaviyo.requests


def test_something_else_is_not_a_private_key(fake_klaviyo: FakeKlaviyo) -> None:
    with pytest.raises(PermanentError) as caught:
        validate_private_key(api_key="sk_live_whatever_this_is", base_url=fake_klaviyo.base_url)
    assert caught.value.code == "not_private_key"


def test_wrong_private_key(fake_klaviyo: FakeKlaviyo, caplog: pytest.LogCaptureFixture) -> None:
    key = "pk_0000000000000000000000000000000000"
    with pytest.raises(PermanentError) as caught:
        validate_private_key(api_key=key, base_url=fake_klaviyo.base_url)
    assert caught.value.code == "auth_failed"
    assert key not in str(caught.value) and key not in caplog.text


def test_key_without_scopes(fake_klaviyo: FakeKlaviyo) -> None:
    fake_klaviyo.private_keys["pk_events_only_0000000000000000000000"] = {"events:write"}
    with pytest.raises(PermanentError) as caught:
        validate_private_key(api_key="pk_events_only_0000000000000000000000", base_url=fake_klaviyo.base_url)
    assert caught.value.code == "missing_scopes"
    assert "accounts:read" in str(caught.value) and "events:write" in str(caught.value)
