"""The AfterShip aggregator: tag/subtag mapping, webhook signatures, and registration of numbers it does not know."""
from __future__ import annotations

import json
from typing import Iterator

import pytest

from integrations.carriers import AfterShip
from integrations.carriers.aftership import map_tag, sign, verify_signature
from integrations.carriers.base import TrackingErrorCode as E
from integrations.status import ShipmentStatus as S
from tests.fakes.aftership import FakeAfterShip
from tests.fakes.carriers import FAST_POLICY, FAST_TIMEOUT


@pytest.fixture
def fake() -> Iterator[FakeAfterShip]:
    with FakeAfterShip() as running:
        yield running


def aftership(fake: FakeAfterShip, key: str = "as-key") -> AfterShip:
    return AfterShip(credentials={"api_key": key, "webhook_secret": "x"}, base_url=fake.base_url,
                     timeout=FAST_TIMEOUT, retry_policy=FAST_POLICY)


@pytest.mark.parametrize(("tag", "subtag", "status", "sub"), [
    ("InfoReceived", "InfoReceived_001", S.LABEL_CREATED, None),
    ("InTransit", "InTransit_007", S.IN_TRANSIT, None),
    ("OutForDelivery", "OutForDelivery_001", S.OUT_FOR_DELIVERY, None),
    ("AvailableForPickup", "AvailableForPickup_001", S.READY_FOR_PICKUP, None),
    ("AttemptFail", "AttemptFail_002", S.FAILED_ATTEMPT, None),
    ("Delivered", "Delivered_005", S.DELIVERED, "neighbour"),
    ("Delivered", "Delivered_002", S.DELIVERED, "parcel_shop"),
    ("Exception", "Exception_007", S.EXCEPTION, "address_issue"),
    ("Exception", "Exception_011", S.RETURNED_TO_SENDER, None),
    ("Exception", "Exception_005", S.IN_TRANSIT, "delayed"),
    ("Exception", "Exception_099", S.EXCEPTION, "other"),  # a new subtag: the tag still says "exception"
    ("Expired", "Expired_001", S.UNKNOWN, None),
    ("SomethingNew", None, S.UNKNOWN, None),
])
def test_tags_and_subtags(tag: str, subtag: str | None, status: S, sub: str | None) -> None:
    assert map_tag(tag, subtag) == (status, sub)


def test_signature_is_base64_hmac_of_the_raw_body() -> None:
    body = b'{"msg": {"tracking_number": "X"}}'
    good = sign(body, "secret")
    assert verify_signature(body=body, signature=good, secret="secret")
    assert not verify_signature(body=body + b" ", signature=good, secret="secret")
    assert not verify_signature(body=body, signature=good, secret="other")
    assert not verify_signature(body=body, signature=None, secret="secret")
    assert not verify_signature(body=body, signature=good, secret=None)


def test_webhook_body_parses_with_offsets(fake: FakeAfterShip) -> None:
    aftership(fake).track(numbers=["LX1"])
    fake.advance("LX1", tag="InTransit", subtag="InTransit_002", message="Accettato", at="2026-11-23T08:00:00+01:00")
    body, _ = fake.webhook("LX1", event_id="e-1")
    result = AfterShip().parse_webhook(body)
    assert result.tracking_number == "LX1" and result.status is S.IN_TRANSIT
    assert result.events[0].occurred_at.isoformat() == "2026-11-23T08:00:00+01:00"
    assert result.events[0].country == "IT"


def test_unknown_numbers_are_registered_known_ones_read(fake: FakeAfterShip) -> None:
    fake.rejected = {"BAD1"}
    results = {r.tracking_number: r for r in aftership(fake).track(numbers=["LX1", "LX2", "BAD1"])}
    assert set(fake.registered) == {"LX1", "LX2"}
    assert results["LX1"].ok and results["LX1"].status is S.LABEL_CREATED
    assert results["BAD1"].error is not None and results["BAD1"].error.code == E.INVALID_NUMBER
    fake.advance("LX1", tag="Delivered", subtag="Delivered_001", message="Consegnato", at="2026-11-24T12:00:00+01:00")
    again = {r.tracking_number: r for r in aftership(fake).track(numbers=["LX1", "LX2"])}
    assert again["LX1"].status is S.DELIVERED
    assert len(fake.requests_to("/tracking/2024-04/trackings", method="POST")) == 3  # no second registration


def test_bad_key_is_auth_and_check_credentials_registers_nothing(fake: FakeAfterShip) -> None:
    (result,) = aftership(fake, key="nope").track(numbers=["LX1"])
    assert result.error is not None and result.error.code == E.AUTH
    assert aftership(fake, key="nope").check_credentials() is not None
    assert aftership(fake).check_credentials() is None
    assert fake.registered == {}


def test_error_meta_body() -> None:
    body = json.dumps({"meta": {"code": 4004, "message": "Tracking does not exist."}, "data": {}})
    (result,) = AfterShip().parse(body)
    assert result.error is not None and result.error.code == E.NOT_FOUND
