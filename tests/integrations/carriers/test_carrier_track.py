"""`track()` against a loopback fake of each carrier API: batches, per-number errors, auth, quotas, slow answers."""
from __future__ import annotations

from typing import Any

import pytest

from integrations.carriers import Dhl, DhlParcelDe, Fedex, Ups, Usps
from integrations.carriers.base import TrackingErrorCode as E
from integrations.status import ShipmentStatus as S
from tests.fakes.carriers import (
    FAST_POLICY,
    FAST_TIMEOUT,
    FakeDhl,
    FakeDhlParcelDe,
    FakeFedex,
    FakeUps,
    FakeUsps,
)
from tests.fakes.http import Response


def dhl_shipment(number: str, *, text: str = "The shipment has been loaded onto the delivery vehicle",
                 code: str = "transit") -> dict[str, Any]:
    event = {"timestamp": "2026-11-20T08:15:00+01:00", "statusCode": code, "status": text,
             "description": text, "location": {"address": {"addressLocality": "Bonn", "countryCode": "DE"}}}
    return {"id": number, "service": "parcel-de", "status": event, "events": [event]}


def dpde_piece(number: str, *, standard: str = "ZU", ice: str = "DLVRD", ric: str = "NGHBR",
               text: str = "The shipment has been delivered to a neighbour") -> str:
    return (f'<data name="piece-shipment" error-status="0" searched-piece-code="{number}" piece-code="{number}" '
            f'status="{text}" standard-event-code="{standard}" ice="{ice}" ric="{ric}" product-name="DHL PAKET" '
            f'ruecksendung="false"><data name="piece-event-list">'
            f'<data name="piece-event" event-timestamp="20.11.2026 11:02" event-text="{text}" '
            f'standard-event-code="{standard}" ice="{ice}" ric="{ric}" event-location="Bonn" '
            f'event-country="Deutschland" ruecksendung="false"/></data></data>')


def ups_shipment(number: str, *, type_: str = "D", description: str = "DELIVERED",
                 location: str = "FRONT DOOR") -> dict[str, Any]:
    status = {"type": type_, "description": description, "code": "KB", "statusCode": "011"}
    return {"inquiryNumber": number, "package": [{
        "trackingNumber": number, "currentStatus": status, "deliveryInformation": {"location": location},
        "activity": [{"date": "20261120", "time": "101500", "gmtDate": "20261120", "gmtTime": "15:15:00",
                      "gmtOffset": "-05:00", "status": status,
                      "location": {"address": {"city": "Wayne", "stateProvince": "NJ", "countryCode": "US"}}}]}]}


def fedex_result(number: str, *, code: str = "OD", description: str = "On FedEx vehicle for delivery") -> dict:
    scan = {"date": "2026-11-20T08:52:00-07:00", "eventType": code, "eventDescription": description,
            "scanLocation": {"city": "CLOVIS", "stateOrProvinceCode": "CA", "countryCode": "US"}}
    return {"trackingNumberInfo": {"trackingNumber": number},
            "latestStatusDetail": {"code": code, "description": description}, "scanEvents": [scan]}


def usps_piece(code: str = "02", text: str = "Notice Left (No Authorized Recipient Available)") -> dict[str, Any]:
    return {"statusCategory": "Delivery Attempt", "status": text, "mailClass": "Priority Mail<SUP>&reg;</SUP>",
            "trackingEvents": [{"eventType": text, "eventTimestamp": "2026-11-20T11:10:00",
                                "GMTTimestamp": "2026-11-20T16:10:31Z", "GMTOffset": "-05:00",
                                "eventCity": "JAMAICA", "eventState": "NY", "eventCode": code}]}


def by_number(results: list) -> dict:  # type: ignore[type-arg]
    return {r.tracking_number: r for r in results}


# -- DHL Unified -----------------------------------------------------------------------------------------------


def dhl(fake: FakeDhl, **kwargs: Any) -> Dhl:
    return Dhl(credentials={"api_key": fake.api_key}, base_url=fake.base_url, timeout=FAST_TIMEOUT,
               retry_policy=FAST_POLICY, **kwargs)


def test_dhl_batch_with_slow_and_unknown_numbers_keeps_the_others(fake_dhl: FakeDhl) -> None:
    fake_dhl.tracked = {"111": dhl_shipment("111"), "222": dhl_shipment("222", code="delivered",
                                                                         text="Delivered to neighbour"),
                        "333": dhl_shipment("333")}
    fake_dhl.slow = {"333": 0.6}
    results = dhl(fake_dhl).track(numbers=["111", "222", "333", "404"])
    assert [r.tracking_number for r in results] == ["111", "222", "333", "404"]
    got = by_number(results)
    assert got["111"].status is S.OUT_FOR_DELIVERY  # only in DHL's text
    assert got["222"].status is S.DELIVERED and got["222"].delivered_to == "neighbour"
    assert got["333"].error is not None and got["333"].error.code == E.CARRIER_DOWN
    assert got["404"].error is not None and got["404"].error.code == E.NOT_FOUND


def test_dhl_sends_the_key_as_header(fake_dhl: FakeDhl) -> None:
    fake_dhl.tracked = {"111": dhl_shipment("111")}
    dhl(fake_dhl).track(numbers=["111"])
    (request,) = fake_dhl.requests
    assert request.header("DHL-API-Key") == fake_dhl.api_key and request.arg("trackingNumber") == "111"


def test_dhl_wrong_key_is_auth_for_all_without_hammering(fake_dhl: FakeDhl) -> None:
    carrier = Dhl(credentials={"api_key": "wrong"}, base_url=fake_dhl.base_url, timeout=FAST_TIMEOUT)
    results = carrier.track(numbers=["1", "2", "3"])
    assert {r.error.code for r in results if r.error} == {E.AUTH} and len(results) == 3
    assert len(fake_dhl.requests) == 1  # the same answer awaits every number


def test_dhl_quota_429_is_rate_limited_with_retry_after(fake_dhl: FakeDhl) -> None:
    fake_dhl.tracked = {n: dhl_shipment(n) for n in ("1", "2", "3")}
    fake_dhl.quota = 1
    results = dhl(fake_dhl).track(numbers=["1", "2", "3"])
    assert results[0].ok
    for result in results[1:]:
        assert result.error is not None and result.error.code == E.RATE_LIMITED
        assert result.error.retry_after == 3600 and result.error.is_transient
    assert fake_dhl.calls == 2  # stopped asking after the first 429


def test_dhl_403_html_page_is_an_auth_error(fake_dhl: FakeDhl) -> None:
    fake_dhl.fail_next(Response.html(status=403, title="Forbidden by WAF"))
    (result,) = dhl(fake_dhl).track(numbers=["1"])
    assert result.error is not None and result.error.code == E.AUTH


def test_dhl_html_200_is_a_bad_response_not_a_crash(fake_dhl: FakeDhl) -> None:
    fake_dhl.fail_next(Response.html(status=200, title="Maintenance"))
    (result,) = dhl(fake_dhl).track(numbers=["1"])
    assert result.error is not None and result.error.code == E.BAD_RESPONSE


def test_carrier_down_trips_the_breaker(fake_dhl: FakeDhl) -> None:
    fake_dhl.fail_next(Response.html(status=503), times=100)
    results = dhl(fake_dhl).track(numbers=[str(n) for n in range(10)])
    assert len(results) == 10 and {r.error.code for r in results if r.error} == {E.CARRIER_DOWN}
    assert len(fake_dhl.requests) == 3 * 3  # three numbers x (1 + 2 retries), then the rest is not attempted


# -- DHL Parcel DE ---------------------------------------------------------------------------------------------


def dpde(fake: FakeDhlParcelDe, password: str = "geheim") -> DhlParcelDe:
    return DhlParcelDe(credentials={"api_key": fake.api_key, "username": "zt12345", "password": password},
                       base_url=fake.base_url, timeout=FAST_TIMEOUT, retry_policy=FAST_POLICY)


def test_dhl_parcel_de_batches_of_20_and_missing_numbers(fake_dhl_parcel_de: FakeDhlParcelDe) -> None:
    numbers = [f"00340434{n:012d}" for n in range(45)]
    fake_dhl_parcel_de.tracked = {n: dpde_piece(n) for n in numbers if not n.endswith("7")}
    results = dpde(fake_dhl_parcel_de).track(numbers=numbers)
    assert len(results) == 45 and len(fake_dhl_parcel_de.requests) == 3
    got = by_number(results)
    assert got[numbers[0]].status is S.DELIVERED and got[numbers[0]].delivered_to == "neighbour"
    assert got[numbers[7]].error is not None and got[numbers[7]].error.code == E.NOT_FOUND
    piece_codes = fake_dhl_parcel_de.requests[0].arg("xml") or ""
    assert 'request="d-get-piece-detail"' in piece_codes and piece_codes.count(";") == 19


def test_dhl_parcel_de_packstation_ready_for_pickup(fake_dhl_parcel_de: FakeDhlParcelDe) -> None:
    fake_dhl_parcel_de.tracked = {"123": dpde_piece(
        "123", ric="PCKST", text="The shipment is ready for pick-up at the PACKSTATION 123 in Bonn")}
    (result,) = dpde(fake_dhl_parcel_de).track(numbers=["123"])
    assert result.status is S.READY_FOR_PICKUP and result.pickup_location == "Bonn, Deutschland"


def test_dhl_parcel_de_wrong_password_is_auth(fake_dhl_parcel_de: FakeDhlParcelDe) -> None:
    (result,) = dpde(fake_dhl_parcel_de, password="nope").track(numbers=["123"])
    assert result.error is not None and result.error.code == E.AUTH
    assert "nope" not in result.error.message


# -- UPS -------------------------------------------------------------------------------------------------------


def ups(fake: FakeUps, secret: str = "client-secret") -> Ups:
    return Ups(credentials={"client_id": "client-id", "client_secret": secret}, base_url=fake.base_url,
               timeout=FAST_TIMEOUT, retry_policy=FAST_POLICY)


def test_ups_oauth_once_for_many_numbers_and_per_number_errors(fake_ups: FakeUps) -> None:
    fake_ups.tracked = {"1ZA": ups_shipment("1ZA"), "1ZB": ups_shipment(
        "1ZB", type_="X", description="The receiver was not available for delivery. We'll make a second attempt")}
    fake_ups.slow = {"1ZC": 0.6}
    results = by_number(ups(fake_ups).track(numbers=["1ZA", "1ZB", "1ZC", "1ZD"]))
    assert results["1ZA"].status is S.DELIVERED and results["1ZA"].delivered_to == "safe_place"
    assert results["1ZA"].events[0].occurred_at.isoformat() == "2026-11-20T10:15:00-05:00"
    assert results["1ZB"].status is S.FAILED_ATTEMPT  # not out for delivery
    assert results["1ZC"].error is not None and results["1ZC"].error.code == E.CARRIER_DOWN
    assert results["1ZD"].error is not None and results["1ZD"].error.code == E.NOT_FOUND
    assert fake_ups.tokens_issued == 1
    assert fake_ups.requests_to("/security/v1/oauth/token")[0].header("Authorization", "").startswith("Basic ")


def test_ups_revoked_token_is_refreshed_once(fake_ups: FakeUps) -> None:
    fake_ups.tracked = {"1ZA": ups_shipment("1ZA")}
    carrier = ups(fake_ups)
    carrier.track(numbers=["1ZA"])
    fake_ups.revoke_tokens()
    (result,) = carrier.track(numbers=["1ZA"])
    assert result.ok and fake_ups.tokens_issued == 2


def test_ups_bad_client_secret_is_auth(fake_ups: FakeUps) -> None:
    results = ups(fake_ups, secret="wrong").track(numbers=["1ZA", "1ZB"])
    assert [r.error.code for r in results if r.error] == [E.AUTH, E.AUTH]
    assert len(fake_ups.requests) == 1


# -- FedEx -----------------------------------------------------------------------------------------------------


def fedex(fake: FakeFedex) -> Fedex:
    return Fedex(credentials={"client_id": "client-id", "client_secret": "client-secret"}, base_url=fake.base_url,
                 timeout=FAST_TIMEOUT, retry_policy=FAST_POLICY)


def test_fedex_batches_of_30_with_not_found(fake_fedex: FakeFedex) -> None:
    numbers = [f"7000000000{n:02d}" for n in range(65)]
    fake_fedex.tracked = {n: fedex_result(n) for n in numbers[::2]}
    results = fedex(fake_fedex).track(numbers=numbers)
    assert len(results) == 65 and len(fake_fedex.requests_to("/track/v1/trackingnumbers")) == 3
    got = by_number(results)
    assert got[numbers[0]].status is S.OUT_FOR_DELIVERY
    assert got[numbers[1]].error is not None and got[numbers[1]].error.code == E.NOT_FOUND
    assert fake_fedex.tokens_issued == 1


def test_fedex_slow_batch_fails_alone(fake_fedex: FakeFedex) -> None:
    numbers = [f"7000000000{n:02d}" for n in range(40)]
    fake_fedex.tracked = {n: fedex_result(n) for n in numbers}
    fake_fedex.slow = {numbers[35]: 0.6}  # in the second batch
    results = fedex(fake_fedex).track(numbers=numbers)
    assert all(r.ok for r in results[:30])
    assert {r.error.code for r in results[30:] if r.error} == {E.CARRIER_DOWN}


def test_fedex_500_html_then_recovers(fake_fedex: FakeFedex) -> None:
    fake_fedex.tracked = {"700000000001": fedex_result("700000000001", code="DE",
                                                       description="Customer not available or business closed")}
    fake_fedex.fail_next(Response.html(status=500), path="/track/v1/trackingnumbers")
    (result,) = fedex(fake_fedex).track(numbers=["700000000001"])
    assert result.status is S.FAILED_ATTEMPT


# -- USPS ------------------------------------------------------------------------------------------------------


def usps(fake: FakeUsps) -> Usps:
    return Usps(credentials={"client_id": "client-id", "client_secret": "client-secret"}, base_url=fake.base_url,
                timeout=FAST_TIMEOUT, retry_policy=FAST_POLICY)


def test_usps_detail_and_not_found(fake_usps: FakeUsps) -> None:
    fake_usps.tracked = {"9400100000000000000001": usps_piece()}
    results = by_number(usps(fake_usps).track(numbers=["9400100000000000000001", "9400100000000000000002"]))
    ok = results["9400100000000000000001"]
    assert ok.status is S.FAILED_ATTEMPT and ok.service == "Priority Mail®"
    assert ok.events[0].occurred_at.isoformat() == "2026-11-20T11:10:31-05:00"
    missing = results["9400100000000000000002"]
    assert missing.error is not None and missing.error.code == E.NOT_FOUND
    assert all(r.arg("expand") == "DETAIL" for r in fake_usps.requests_to("/tracking/v3/tracking/{n}"))


@pytest.mark.parametrize("carrier_cls", [Ups, Fedex, Usps])
def test_oauth_carriers_share_one_token_across_instances(carrier_cls: type, fake_ups: FakeUps,
                                                          fake_fedex: FakeFedex, fake_usps: FakeUsps) -> None:
    fake = {Ups: fake_ups, Fedex: fake_fedex, Usps: fake_usps}[carrier_cls]
    for _ in range(3):
        carrier_cls(credentials={"client_id": "client-id", "client_secret": "client-secret"},
                    base_url=fake.base_url, timeout=FAST_TIMEOUT).track(numbers=["X1"])
    assert fake.tokens_issued == 1
