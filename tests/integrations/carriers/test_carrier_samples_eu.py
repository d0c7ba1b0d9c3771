"""DPD, GLS, Hermes, La Poste, Royal Mail and Canada Post: every shared sample parses to statuses from the code tables."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from integrations.carriers import CanadaPost, Dpd, Gls, Hermes, LaPoste, RoyalMail
from integrations.carriers.base import TrackingErrorCode as E
from integrations.status import ShipmentStatus as S
from tests.fakes.carriers import CARRIER_SAMPLES, sample
from tests.fakes.carriers_eu import canadapost_detail, dpd_status, gls_parcel, laposte_shipment


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


def assert_newest_first(result) -> None:  # type: ignore[no-untyped-def]
    times = [e.occurred_at for e in result.events]
    assert times == sorted(times, reverse=True)
    assert all(t.tzinfo is not None for t in times)


# -- DPD -------------------------------------------------------------------------------------------------------


def test_dpd_returning_from_delivery_is_a_failed_attempt_not_out_for_delivery() -> None:
    (result,) = Dpd().parse(sample("dpd", "TrackingResponse.xml"))
    assert result.error is None and result.status is S.FAILED_ATTEMPT  # isCurrentStatus: ReturningFromDelivery
    assert result.service == "DPD PARCELSHOP DELIVERY"
    assert len(result.events) == 15
    assert_newest_first(result)
    newest = result.events[0]
    assert newest.code == "ReturningFromDelivery" and newest.status is S.FAILED_ATTEMPT
    # "8/19/2021 5:11:26 PM" in Mechelen (BE): Brussels summer time, not UTC and not 05:11
    assert newest.occurred_at == datetime(2021, 8, 19, 17, 11, 26, tzinfo=offset(2))
    assert newest.location == "Mechelen (BE)" and newest.country == "BE"
    by_code = {e.code: e.status for e in result.events}
    assert by_code == {"ReturningFromDelivery": S.FAILED_ATTEMPT, "PickedUp": S.IN_TRANSIT,
                       "Courier": S.OUT_FOR_DELIVERY, "ParcelShop": S.READY_FOR_PICKUP,
                       "DeliveryFailure": S.FAILED_ATTEMPT, "Depot": S.IN_TRANSIT, "BetweenDepots": S.IN_TRANSIT}
    aschaffenburg = [e for e in result.events if e.country == "DE"]
    assert aschaffenburg and all(e.occurred_at.utcoffset() == timedelta(hours=2) for e in aschaffenburg)


def test_dpd_authentication_fault_is_auth() -> None:
    (result,) = Dpd().parse(sample("dpd", "ErrorResponse.xml"))
    assert result.error is not None and result.error.code == E.AUTH
    assert "DELICOM_ERR_AUTHENTICATION" in result.error.message


def test_dpd_parcel_shop_pickup_and_unreached_milestones() -> None:
    body = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<getTrackingDataResponse xmlns="http://dpd.com/common/service/types/ParcelLifeCycleService/2.0">'
            "<trackingresult><shipmentInfo><parcelLabelNumber>01234567890123</parcelLabelNumber></shipmentInfo>"
            + dpd_status("ACCEPTED", "20.11.2026, 18:02", location="Hamburg (DE)")
            + dpd_status("ParcelShop", "11/23/2026 10:15:00 AM", location="Paketshop Kiosk Mitte, Berlin (DE)",
                         current=True)
            + dpd_status("DELIVERED", "", reached=False)
            + "</trackingresult></getTrackingDataResponse></soap:Body></soap:Envelope>")
    (result,) = Dpd().parse(body)
    assert result.tracking_number == "01234567890123"
    assert result.status is S.READY_FOR_PICKUP and result.pickup_location == "Paketshop Kiosk Mitte, Berlin (DE)"
    assert [e.code for e in result.events] == ["ParcelShop", "ACCEPTED"]  # the unreached DELIVERED is no event
    assert result.events[1].occurred_at == datetime(2026, 11, 20, 18, 2, tzinfo=offset(1))


def test_dpd_unknown_status_is_kept_raw() -> None:
    body = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            "<getTrackingDataResponse><trackingresult>"
            + dpd_status("SomethingNew", "11/23/2026 9:00:00 AM", text="Neuer Status", current=True)
            + "</trackingresult></getTrackingDataResponse></soap:Body></soap:Envelope>")
    (result,) = Dpd().parse(body)
    assert result.status is S.UNKNOWN and result.events[0].code == "SomethingNew"
    assert result.events[0].description == "Neuer Status" and result.raw


# -- GLS -------------------------------------------------------------------------------------------------------


def test_gls_in_transit_keeps_the_offsets() -> None:
    (result,) = Gls().parse(sample("gls", "TrackingResponse.json"))
    assert result.tracking_number == "36301917596" and result.status is S.IN_TRANSIT and result.error is None
    assert [(e.code, e.status) for e in result.events] == [("INTIAL.NORMAL", S.IN_TRANSIT),
                                                          ("INTIAL.PREADVICE", S.LABEL_CREATED)]
    assert result.events[0].occurred_at == datetime(2024, 10, 7, 10, 46, 14, tzinfo=offset(2))
    assert result.events[0].location == "10437 Berlin, DE"


def test_gls_unknown_parcel_is_not_found() -> None:
    (result,) = Gls().parse(sample("gls", "ErrorResponse.json"))
    assert result.tracking_number == "36301917596"
    assert result.error is not None and result.error.code == E.NOT_FOUND


@pytest.mark.parametrize(("status", "expected"), [
    ("PREADVICE", S.LABEL_CREATED), ("INDELIVERY", S.OUT_FOR_DELIVERY), ("DELIVEREDPS", S.READY_FOR_PICKUP),
    ("NOTDELIVERED", S.FAILED_ATTEMPT), ("DELIVERED", S.DELIVERED), ("CANCELED", S.EXCEPTION),
])
def test_gls_documented_parcel_statuses(status: str, expected: S) -> None:
    parcel = gls_parcel("12345678901", status=status, code="SOMETHING.NEW", text="text")
    (result,) = Gls().parse(json.dumps({"parcels": [parcel]}))
    assert result.status is expected
    # the unmapped event code at the status time takes the parcel's documented status, never a guess from text
    assert result.events[0].code == "SOMETHING.NEW" and result.events[0].status is expected


def test_gls_parcel_shop_delivery_waits_for_the_shopper() -> None:
    parcel = gls_parcel("12345678901", status="DELIVEREDPS", code="DELIVD.PARCELSHOP",
                        text="The parcel has been delivered at the ParcelShop (see ParcelShop information).")
    (result,) = Gls().parse(json.dumps({"parcels": [parcel]}))
    assert result.status is S.READY_FOR_PICKUP and result.events[0].status is S.READY_FOR_PICKUP


def test_gls_gateway_quota_fault_is_rate_limited() -> None:
    body = {"fault": {"faultstring": "Rate limit quota violation.", "detail": {"errorcode": "policies.ratelimit.QuotaViolation"}}}
    (result,) = Gls().parse(json.dumps(body))
    assert result.error is not None and result.error.code == E.RATE_LIMITED


# -- Hermes ----------------------------------------------------------------------------------------------------


def test_hermes_delivered_with_its_offsets_kept() -> None:
    (result,) = Hermes().parse(sample("hermes", "TrackingResponse.json"))
    assert result.tracking_number == "H1234567890123456789" and result.status is S.DELIVERED
    assert [(e.code, e.status) for e in result.events] == [
        ("3500", S.DELIVERED), ("3000", S.OUT_FOR_DELIVERY), ("2000", S.IN_TRANSIT), ("0000", S.LABEL_CREATED)]
    assert result.events[0].occurred_at.isoformat() == "2024-01-20T14:30:00+01:00"
    assert result.events[0].location == "Hamburg, DE" and result.events[0].country == "DE"
    assert result.tracking_url == "https://www.myhermes.de/tracking/H1234567890123456789"
    assert result.estimated_delivery is None  # delivered: the forecast is history


def test_hermes_forecast_window_while_travelling() -> None:
    data = json.loads(sample("hermes", "TrackingResponse.json"))
    data["shipmentinfo"][0]["status"] = data["shipmentinfo"][0]["status"][:2]
    (result,) = Hermes().parse(json.dumps(data))
    assert result.status is S.IN_TRANSIT
    assert result.estimated_delivery is not None
    assert result.estimated_delivery.earliest == datetime(2024, 1, 20, 10, tzinfo=offset(1))
    assert result.estimated_delivery.latest == datetime(2024, 1, 20, 18, tzinfo=offset(1))


def test_hermes_no_information_is_not_found() -> None:
    (result,) = Hermes().parse(sample("hermes", "TrackingErrorResponse.json"))
    assert result.tracking_number == "H1234567890123456789"
    assert result.error is not None and result.error.code == E.NOT_FOUND


def test_hermes_unknown_code_and_neighbour() -> None:
    data = {"shipmentinfo": [{"shipmentID": "H1", "status": [
        {"timestamp": "2026-11-23T09:00:00+01:00", "code": "3500", "description": "Beim Nachbarn abgegeben."},
        {"timestamp": "2026-11-23T10:00:00+01:00", "code": "9999", "description": "Neu"}]}]}
    (result,) = Hermes().parse(json.dumps(data))
    assert result.status is S.UNKNOWN and result.events[0].code == "9999"
    assert result.events[1].status is S.DELIVERED and result.events[1].substatus == "neighbour"


# -- La Poste --------------------------------------------------------------------------------------------------


def test_laposte_colissimo_delivered_by_code_and_final() -> None:
    (result,) = LaPoste().parse(sample("laposte", "TrackingResponse.json"))
    assert result.tracking_number == "EW112720413FR" and result.status is S.DELIVERED
    assert result.service == "colissimo" and result.estimated_delivery is None  # isFinal
    assert len(result.events) == 9
    assert_newest_first(result)
    assert [e.code for e in result.events[:3]] == ["DI1", "MD2", "ET1"]
    assert [e.status for e in result.events[:3]] == [S.DELIVERED, S.OUT_FOR_DELIVERY, S.IN_TRANSIT]
    assert result.events[-1].code == "DR1" and result.events[-1].status is S.LABEL_CREATED
    assert result.events[0].occurred_at.isoformat() == "2023-03-09T09:38:00+01:00"


def test_laposte_invalid_number() -> None:
    (result,) = LaPoste().parse(sample("laposte", "ErrorResponse.json"))
    assert result.error is not None and result.error.code == E.INVALID_NUMBER


def test_laposte_final_without_a_known_code_uses_the_timeline() -> None:
    data = json.loads(sample("laposte", "TrackingResponse.json"))
    data[0]["shipment"]["event"][0]["code"] = "DI9"
    (result,) = LaPoste().parse(json.dumps(data))
    assert result.events[0].status is S.UNKNOWN and result.status is S.DELIVERED  # isFinal + timeline step 5
    data[0]["shipment"]["isFinal"] = False
    (result,) = LaPoste().parse(json.dumps(data))
    assert result.status is S.UNKNOWN


@pytest.mark.parametrize(("code", "text", "status", "sub"), [
    ("AG1", "Votre colis est disponible dans votre point de retrait.", S.READY_FOR_PICKUP, None),
    ("ND1", "Votre colis n'a pas pu être livré : adresse incomplète.", S.EXCEPTION, "address_issue"),
    ("ND1", "Votre colis n'a pas pu vous être remis en mains propres.", S.FAILED_ATTEMPT, None),
    ("RE1", "Votre colis est retourné à l'expéditeur.", S.RETURNED_TO_SENDER, None),
    ("DO3", "Votre colis est retenu en douane.", S.EXCEPTION, "customs"),
    ("DI1", "Votre colis a été livré dans votre boîte aux lettres.", S.DELIVERED, "mailbox"),
])
def test_laposte_codes(code: str, text: str, status: S, sub: str | None) -> None:
    (result,) = LaPoste().parse(json.dumps({"returnCode": 200, "shipment": laposte_shipment("6A12345678901",
                                                                                          code=code, text=text)}))
    assert (result.status, result.substatus) == (status, sub)


# -- Royal Mail ------------------------------------------------------------------------------------------------


def test_royalmail_mis_sort_is_in_transit_with_its_window() -> None:
    (result,) = RoyalMail().parse(sample("royalmail", "TrackingResponseJSON.json"))
    assert result.tracking_number == "FQ087430672GB" and result.status is S.IN_TRANSIT
    (event,) = result.events
    assert event.code == "EVNMI" and event.occurred_at.isoformat() == "2016-10-20T10:04:00+01:00"
    assert result.service == "Special Delivery Guaranteed"
    assert result.estimated_delivery is not None
    assert result.estimated_delivery.earliest == datetime(2017, 2, 20, 8, tzinfo=offset(1))
    assert result.estimated_delivery.latest == datetime(2017, 2, 20, 11, tzinfo=offset(1))


def test_royalmail_header_error_is_not_the_numbers_fault() -> None:
    (result,) = RoyalMail().parse(sample("royalmail", "TrackingErrorResponseJSON.json"))
    assert result.error is not None and result.error.code == E.BAD_RESPONSE
    assert "E0004" in result.error.message


def test_royalmail_unmapped_last_event_takes_the_status_category() -> None:
    data = json.loads(sample("royalmail", "TrackingResponseJSON.json"))
    data["mailPieces"]["events"][0]["eventCode"] = "EVXYZ"
    data["mailPieces"]["summary"]["statusCategory"] = "DELIVERED"
    (result,) = RoyalMail().parse(json.dumps(data))
    assert result.status is S.DELIVERED and result.events[0].status is S.DELIVERED


# -- Canada Post -----------------------------------------------------------------------------------------------


def test_canadapost_detail_codes_and_zone() -> None:
    (result,) = CanadaPost().parse(sample("canadapost", "TrackingResponseXml.xml"))
    assert result.tracking_number == "7023210039414604" and result.service == "Expedited Parcels"
    assert result.status is S.DELIVERED  # newest: signature recorded (20), captured at hand-over
    by_code = {e.code: e.status for e in result.events}
    assert by_code == {"20": S.DELIVERED, "0174": S.OUT_FOR_DELIVERY, "0100": S.IN_TRANSIT, "0173": S.EXCEPTION,
                       "1496": S.DELIVERED}
    address = next(e for e in result.events if e.code == "0173")
    assert address.substatus == "address_issue"
    assert result.events[0].occurred_at == datetime(2011, 2, 3, 11, 59, 59, tzinfo=offset(-5))  # EST
    assert result.events[0].location == "SAINTE-FOY, QC"


@pytest.mark.parametrize(("name", "code"), [("AuthError.xml", E.AUTH),
                                            ("UnknownTrackingNumberResponse.xml", E.NOT_FOUND)])
def test_canadapost_messages(name: str, code: str) -> None:
    (result,) = CanadaPost().parse(sample("canadapost", name))
    assert result.error is not None and result.error.code == code


def test_canadapost_expected_date_while_travelling() -> None:
    (result,) = CanadaPost().parse(canadapost_detail("1234567890123456"))
    assert result.status is S.OUT_FOR_DELIVERY
    assert result.estimated_delivery is not None and result.estimated_delivery.earliest == date(2026, 11, 24)


# -- coverage guard --------------------------------------------------------------------------------------------


COVERED = {
    "dpd": {"TrackingResponse.xml", "ErrorResponse.xml"},
    "gls": {"TrackingResponse.json", "ErrorResponse.json"},
    "hermes": {"TrackingResponse.json", "TrackingErrorResponse.json"},
    "laposte": {"TrackingResponse.json", "ErrorResponse.json"},
    "royalmail": {"TrackingResponseJSON.json", "TrackingErrorResponseJSON.json"},
    "canadapost": {"TrackingResponseXml.xml", "AuthError.xml", "UnknownTrackingNumberResponse.xml"},
}
PARSERS = {"dpd": Dpd, "gls": Gls, "hermes": Hermes, "laposte": LaPoste, "royalmail": RoyalMail,
           "canadapost": CanadaPost}


@pytest.mark.parametrize("folder", sorted(COVERED))
def test_every_sample_has_an_expectation_and_parses(folder: str) -> None:
    directory = CARRIER_SAMPLES / folder
    if not directory.exists():
        pytest.skip("shared carrier samples not available")
    bodies = {p.name for p in directory.iterdir() if ".karrio-parsed." not in p.name}
    assert bodies == COVERED[folder]
    for name in bodies:
        assert PARSERS[folder]().parse((directory / name).read_bytes())
