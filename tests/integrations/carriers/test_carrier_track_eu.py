"""`track()` of the European, UK and Canadian carriers against their loopback fakes: auth, quotas, 429, 5xx, slow."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest

from integrations.carriers import CanadaPost, Dpd, Gls, Hermes, LaPoste, RoyalMail
from integrations.carriers.base import TrackingErrorCode as E
from integrations.status import ShipmentStatus as S
from tests.fakes.carriers import FAST_POLICY, FAST_TIMEOUT, FakeCarrier
from tests.fakes.carriers_eu import (
    FakeCanadaPost,
    FakeDpd,
    FakeGls,
    FakeHermes,
    FakeLaPoste,
    FakeRoyalMail,
    canadapost_detail,
    dpd_status,
    gls_parcel,
    hermes_shipment,
    laposte_shipment,
    royalmail_piece,
)
from tests.fakes.http import Response


@dataclass(frozen=True)
class Case:
    cls: type
    fake: Callable[[], FakeCarrier]
    good: dict[str, str]
    bad: dict[str, str]
    tracked: Callable[[str], Any]  # number -> the fake's data for a parcel in `expected`
    expected: S
    numbers: tuple[str, ...]


CASES = {
    "dpd": Case(Dpd, FakeDpd, {"delis_id": "delis-user", "password": "delis-pass"},
                {"delis_id": "delis-user", "password": "nope"},
                lambda n: f"<shipmentInfo><parcelLabelNumber>{n}</parcelLabelNumber></shipmentInfo>" + dpd_status(
                    "ReturningFromDelivery", "11/23/2026 5:11:26 PM", current=True),
                S.FAILED_ATTEMPT, ("01234567890001", "01234567890002", "01234567890003", "01234567890004")),
    "gls": Case(Gls, FakeGls, {"client_id": "client-id", "client_secret": "client-secret"},
                {"client_id": "client-id", "client_secret": "nope"}, gls_parcel, S.OUT_FOR_DELIVERY,
                ("12345678901", "12345678902", "12345678903", "12345678904")),
    "hermes": Case(Hermes, FakeHermes, {"client_id": "client-id", "client_secret": "client-secret",
                                        "username": "shop-user", "password": "shop-pass"},
                   {"client_id": "client-id", "client_secret": "client-secret", "username": "shop-user",
                    "password": "nope"}, hermes_shipment, S.DELIVERED,
                   ("H1000000000000000001", "H1000000000000000002", "H1000000000000000003", "H1000000000000000004")),
    "laposte": Case(LaPoste, FakeLaPoste, {"api_key": "okapi-key"}, {"api_key": "nope"}, laposte_shipment,
                    S.READY_FOR_PICKUP, ("6A10000000001", "6A10000000002", "6A10000000003", "6A10000000004")),
    "royalmail": Case(RoyalMail, FakeRoyalMail, {"client_id": "client-id", "client_secret": "client-secret"},
                      {"client_id": "client-id", "client_secret": "nope"}, royalmail_piece, S.DELIVERED,
                      ("AB000000001GB", "AB000000002GB", "AB000000003GB", "AB000000004GB")),
    "canadapost": Case(CanadaPost, FakeCanadaPost, {"username": "client-id", "password": "client-secret"},
                       {"username": "client-id", "password": "nope"}, canadapost_detail, S.OUT_FOR_DELIVERY,
                       ("1000000000000001", "1000000000000002", "1000000000000003", "1000000000000004")),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


@pytest.fixture
def fake(case: Case) -> Iterator[FakeCarrier]:
    with case.fake() as running:
        yield running


def carrier(case: Case, fake: FakeCarrier, *, bad: bool = False):  # type: ignore[no-untyped-def]
    return case.cls(credentials=case.bad if bad else case.good, base_url=fake.base_url, timeout=FAST_TIMEOUT,
                    retry_policy=FAST_POLICY)


def by_number(results: list) -> dict:  # type: ignore[type-arg]
    return {r.tracking_number: r for r in results}


def test_slow_and_unknown_numbers_do_not_cost_the_others(case: Case, fake: FakeCarrier) -> None:
    good, slow, missing, other = case.numbers
    fake.tracked = {n: case.tracked(n) for n in (good, slow, other)}
    if case.cls.batch_size == 1:  # a batch API answers for the whole batch at once: see the GLS/La Poste tests
        fake.slow = {slow: 0.6}
    results = carrier(case, fake).track(numbers=[good, slow, missing, other])
    assert sorted(r.tracking_number for r in results) == sorted(case.numbers)
    got = by_number(results)
    assert got[good].status is case.expected and got[good].error is None
    assert all(e.occurred_at.tzinfo is not None for e in got[good].events)
    assert got[missing].error is not None and got[missing].error.code == E.NOT_FOUND
    if case.cls.batch_size == 1:  # the slow answer costs only its own number
        assert got[slow].error is not None and got[slow].error.code == E.CARRIER_DOWN
        assert got[other].status is case.expected


def test_rejected_credentials_are_auth_for_every_number_without_hammering(case: Case, fake: FakeCarrier) -> None:
    results = carrier(case, fake, bad=True).track(numbers=list(case.numbers[:3]))
    assert [r.error.code for r in results if r.error] == [E.AUTH] * 3
    assert len(fake.requests) <= 2  # a login (or one call); never one per number
    for result in results:
        assert "nope" not in (result.error.message if result.error else "")


def test_quota_429_is_rate_limited_with_retry_after(case: Case, fake: FakeCarrier) -> None:
    fake.tracked = {n: case.tracked(n) for n in case.numbers}
    fake.quota = 0
    results = carrier(case, fake).track(numbers=list(case.numbers[:2]))
    for result in results:
        assert result.error is not None and result.error.code == E.RATE_LIMITED
        assert result.error.retry_after == 3600
    assert fake.calls == 1  # stopped asking after the first 429


def test_html_5xx_is_retried_then_recovers(case: Case, fake: FakeCarrier) -> None:
    number = case.numbers[0]
    fake.tracked = {number: case.tracked(number)}
    carrier_ = carrier(case, fake)
    carrier_.track(numbers=[number])  # log in first, so the fault hits the tracking call
    fake.fail_next(Response.html(status=503))
    (result,) = carrier_.track(numbers=[number])
    assert result.error is None and result.status is case.expected


def test_html_5xx_for_good_is_carrier_down(case: Case, fake: FakeCarrier) -> None:
    fake.fail_next(Response.html(status=502), times=50)
    results = carrier(case, fake).track(numbers=list(case.numbers[:2]))
    assert {r.error.code for r in results if r.error} == {E.CARRIER_DOWN}


# -- carrier specifics -----------------------------------------------------------------------------------------


def test_gls_batches_of_ten_one_token() -> None:
    with FakeGls() as fake:
        numbers = [f"1234567{n:04d}" for n in range(25)]
        fake.tracked = {n: gls_parcel(n) for n in numbers[::2]}
        results = carrier(CASES["gls"], fake).track(numbers=numbers)
        calls = fake.requests_to("/track-and-trace-v1/tracking/simple/trackids/{ids}")
        assert len(results) == 25 and len(calls) == 3 and fake.tokens_issued == 1
        assert calls[0].path.count(",") == 9
        got = by_number(results)
        assert got[numbers[0]].status is S.OUT_FOR_DELIVERY
        assert got[numbers[1]].error is not None and got[numbers[1]].error.code == E.NOT_FOUND


def test_laposte_batches_of_ten_with_multi_status() -> None:
    with FakeLaPoste() as fake:
        numbers = [f"6A1000000{n:04d}" for n in range(12)]
        fake.tracked = {n: laposte_shipment(n) for n in numbers if not n.endswith("3")}
        results = carrier(CASES["laposte"], fake).track(numbers=numbers)
        assert len(fake.requests) == 2 and len(results) == 12
        got = by_number(results)
        assert got[numbers[0]].status is S.READY_FOR_PICKUP
        assert got[numbers[3]].error is not None and got[numbers[3]].error.code == E.NOT_FOUND
        assert fake.requests[0].header("X-Okapi-Key") == "okapi-key"


def test_dpd_token_is_reused_and_renewed_when_dpd_drops_it() -> None:
    with FakeDpd() as fake:
        numbers = ["01234567890001", "01234567890002"]
        fake.tracked = {n: CASES["dpd"].tracked(n) for n in numbers}
        dpd = carrier(CASES["dpd"], fake)
        assert all(r.ok for r in dpd.track(numbers=numbers))
        assert fake.tokens_issued == 1
        fake.revoke_tokens()
        (result,) = dpd.track(numbers=numbers[:1])
        assert result.ok and result.status is S.FAILED_ATTEMPT and fake.tokens_issued == 2


def test_hermes_password_grant_keeps_offsets() -> None:
    with FakeHermes() as fake:
        fake.tracked = {"H1": hermes_shipment("H1", at="2026-11-23T14:30:00+02:00")}
        (result,) = carrier(CASES["hermes"], fake).track(numbers=["H1"])
        assert result.delivered_to == "neighbour"
        assert result.events[0].occurred_at.isoformat() == "2026-11-23T14:30:00+02:00"  # as sent, not re-zoned
        token_request = fake.requests_to("/authorization-facade/oauth2/access_token")[0]
        assert token_request.form()["grant_type"] == "password"


def test_royalmail_sends_the_terms_header() -> None:
    with FakeRoyalMail() as fake:
        fake.tracked = {"AB000000001GB": royalmail_piece("AB000000001GB")}
        (result,) = carrier(CASES["royalmail"], fake).track(numbers=["AB000000001GB"])
        assert result.status is S.DELIVERED
        assert fake.requests[0].header("X-Accept-RMG-Terms") == "yes"
