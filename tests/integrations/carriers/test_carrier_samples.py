"""Every recorded carrier body in the shared samples parses to the statuses we decided from the carriers' code tables."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from integrations.carriers import Dhl, DhlParcelDe, Fedex, Ups, Usps
from integrations.carriers.base import TrackingErrorCode as E
from integrations.status import ShipmentStatus as S
from tests.fakes.carriers import CARRIER_SAMPLES, VENDOR_CARRIERS, sample, vendor_sample


def offset(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


def assert_newest_first(result) -> None:  # type: ignore[no-untyped-def]
    times = [e.occurred_at for e in result.events]
    assert times == sorted(times, reverse=True)
    assert all(t.tzinfo is not None for t in times)


# -- DHL Unified -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    lambda: sample("dhl_universal", "TrackingResponseJSON.json"),
    lambda: vendor_sample("dhl_unified_tracking_response__karrio_test.json"),
])
def test_dhl_docs_example_is_pre_transit_by_code_not_by_its_status_text(body) -> None:  # type: ignore[no-untyped-def]
    (result,) = Dhl().parse(body())
    assert result.tracking_number == "7777777770"
    # statusCode "pre-transit" wins over the free-text "DELIVERED" of DHL's placeholder example
    assert result.status is S.LABEL_CREATED and result.error is None
    assert result.service == "express"
    assert result.estimated_delivery is not None
    assert result.estimated_delivery.earliest == datetime(2018, 8, 3, tzinfo=timezone.utc)
    assert result.estimated_delivery.latest == datetime(2018, 8, 3, 22, tzinfo=timezone.utc)
    (event,) = result.events
    # no offset in the event: Amsterdam local time (CET in March)
    assert event.occurred_at == datetime(2018, 3, 2, 7, 53, 47, tzinfo=offset(1))
    assert event.occurred_at.utcoffset() == timedelta(hours=1)
    assert event.code == "pre-transit" and event.country == "NL"
    assert result.tracking_url and "7777777770" in result.tracking_url


@pytest.mark.parametrize("body", [
    lambda: sample("dhl_universal", "TrackingErrorResponseJSON.json"),
    lambda: vendor_sample("dhl_unified_tracking_error_404__karrio_test.json"),
])
def test_dhl_404_problem_is_a_not_found_result(body) -> None:  # type: ignore[no-untyped-def]
    (result,) = Dhl().parse(body())
    assert result.tracking_number == "8264715546"
    assert result.error is not None and result.error.code == E.NOT_FOUND
    assert "No shipment" in result.error.message


# -- DHL Parcel DE ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["TrackingResponseXML.xml", "LiveSandbox_d-get-piece-detail_2026-01-28.xml"])
def test_dhl_parcel_de_delivered_piece(name: str) -> None:
    (result,) = DhlParcelDe().parse(sample("dhl_parcel_de", name))
    assert result.tracking_number == "00340434161094015902"
    assert result.status is S.DELIVERED and result.error is None
    assert result.service == "DHL PAKET (parcel)"
    assert len(result.events) == 7
    assert_newest_first(result)
    statuses = [e.status for e in result.events]
    assert statuses == [S.DELIVERED, S.OUT_FOR_DELIVERY, S.IN_TRANSIT, S.IN_TRANSIT, S.IN_TRANSIT, S.IN_TRANSIT,
                        S.IN_TRANSIT]
    newest, ofd, oldest = result.events[0], result.events[1], result.events[-1]
    assert newest.occurred_at == datetime(2016, 3, 18, 10, 2, tzinfo=offset(1))  # Berlin, CET
    assert newest.location == "Bonn, Germany" and newest.country == "DE"
    assert ofd.code is not None and ofd.code.startswith("PO")
    # posted by the sender AT a Packstation is not "ready for pickup" for the shopper
    assert oldest.code is not None and oldest.code.startswith("ES") and oldest.status is S.IN_TRANSIT
    assert "piececode=00340434161094015902" in (result.tracking_url or "")


def test_dhl_parcel_de_no_data_is_not_found() -> None:
    (result,) = DhlParcelDe().parse(sample("dhl_parcel_de", "TrackingErrorResponseXML.xml"))
    assert result.error is not None and result.error.code == E.NOT_FOUND
    assert result.error.message == "No data found"


# -- UPS -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    lambda: sample("ups", "TrackingResponseJSON.json"),
    lambda: vendor_sample("ups_track_v1_response__karrio_test.json"),
])
def test_ups_docs_example_maps_type_x_to_a_customs_exception(body) -> None:  # type: ignore[no-untyped-def]
    (result,) = Ups().parse(body())
    assert result.tracking_number == "1Z023E2X0214323462"
    # type "X" is UPS's exception type; "simplifiedTextDescription: Delivered" is placeholder text, never used
    assert result.status is S.EXCEPTION and result.substatus == "customs"
    assert result.service == "UPS Ground"
    assert result.estimated_delivery is None and result.pickup_deadline is None  # "string" placeholders
    (event,) = result.events
    assert event.occurred_at == datetime(2021, 2, 10, 7, 13, 56, tzinfo=offset(-5))  # Wayne, NJ, EST
    assert event.code == "SR" and event.location == "Wayne, NJ, US"


@pytest.mark.parametrize(("body", "code"), [
    (lambda: sample("ups", "InvalidTrackingNumberResponseJSON.json"), E.INVALID_NUMBER),
    (lambda: vendor_sample("ups_track_v1_error_invalid_inquiry__karrio_test.json"), E.INVALID_NUMBER),
    (lambda: sample("ups", "TrackingNumberNotFoundResponseJSON.json"), E.NOT_FOUND),
    (lambda: vendor_sample("ups_track_v1_warning_not_found__karrio_test.json"), E.NOT_FOUND),
    (lambda: sample("ups", "AuthError.json"), E.AUTH),
])
def test_ups_error_bodies(body, code: str) -> None:  # type: ignore[no-untyped-def]
    (result,) = Ups().parse(body())
    assert result.error is not None and result.error.code == code
    assert result.status is S.UNKNOWN


# -- FedEx -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    lambda: sample("fedex", "TrackingResponse.json"),
    lambda: vendor_sample("fedex_track_v1_response_docs_sample__karrio_test.json"),
])
def test_fedex_docs_example_one_found_one_not(body) -> None:  # type: ignore[no-untyped-def]
    found, missing = Fedex().parse(body())
    assert found.tracking_number == "123456789012"
    assert found.status is S.IN_TRANSIT and found.substatus == "delayed"  # PU + delayDetail DELAYED
    assert found.error is None
    assert found.events[0].occurred_at == datetime(2018, 2, 2, 12, 1, tzinfo=offset(-7))
    assert found.service == "FedEx Freight Economy."
    assert missing.tracking_number == "39936862321"
    assert missing.error is not None and missing.error.code == E.NOT_FOUND


@pytest.mark.parametrize("body", [
    lambda: sample("fedex", "DuplicateTrackingResponse.json"),
    lambda: vendor_sample("fedex_track_v1_response_recorded__karrio_test.json"),
])
def test_fedex_reused_number_takes_the_latest_shipment(body) -> None:  # type: ignore[no-untyped-def]
    (result,) = Fedex().parse(body())
    assert result.tracking_number == "776094337676"
    assert result.status is S.DELIVERED
    assert result.delivered_to is None  # "Residence" says where, not who: not guessed
    assert result.events[0].occurred_at == datetime(2024, 4, 26, 9, 26, tzinfo=offset(-7))
    assert_newest_first(result)
    by_code = {e.code: e for e in result.events}
    assert by_code["OD"].status is S.OUT_FOR_DELIVERY
    # "Customer not available or business closed" is a failed attempt, not out for delivery
    attempts = [e for e in result.events if e.code == "DE"]
    assert {e.status for e in attempts} == {S.FAILED_ATTEMPT, S.IN_TRANSIT}


def test_fedex_running_late_shipment_keeps_the_delay() -> None:
    body = sample("fedex", "DuplicateTrackingResponse.json")
    data = json.loads(body)
    data["output"]["completeTrackResults"][0]["trackResults"] = data["output"]["completeTrackResults"][0][
        "trackResults"][:1]
    (result,) = Fedex().parse(json.dumps(data))
    assert result.status is S.IN_TRANSIT and result.substatus == "delayed"
    ready = [e for e in result.events if e.code == "HP"]
    assert ready and ready[0].status is S.READY_FOR_PICKUP


def test_fedex_scan_without_offset_gets_its_location_zone() -> None:
    (result,) = Fedex().parse(sample("fedex", "InconsistentDateTimeResponse.json"))
    assert result.tracking_number == "738488882438" and result.status is S.DELIVERED
    oldest = result.events[-1]
    assert oldest.code == "PU"
    assert oldest.occurred_at == datetime(2024, 8, 15, 0, 0, tzinfo=offset(-5))  # Mankato, MN, CDT
    assert result.events[0].occurred_at == datetime(2024, 8, 20, 12, 41, 57, tzinfo=offset(-4))
    assert_newest_first(result)


def test_fedex_proof_of_delivery_is_not_a_tracking_body() -> None:
    with pytest.raises(ValueError):
        Fedex().parse(sample("fedex", "ProofOfDeliveryResponse.json"))


@pytest.mark.parametrize(("body", "code"), [
    (lambda: sample("fedex", "ErrorResponse.json"), E.INVALID_NUMBER),
    (lambda: vendor_sample("fedex_track_v1_error_400__fedex_openapi.json"), E.INVALID_NUMBER),
    (lambda: vendor_sample("fedex_track_v1_error_401__fedex_openapi.json"), E.AUTH),
    (lambda: vendor_sample("fedex_track_v1_error_404__fedex_openapi.json"), E.BAD_RESPONSE),
    (lambda: vendor_sample("fedex_track_v1_error_500__fedex_openapi.json"), E.CARRIER_DOWN),
    (lambda: vendor_sample("fedex_track_v1_error_503__fedex_openapi.json"), E.CARRIER_DOWN),
])
def test_fedex_error_bodies(body, code: str) -> None:  # type: ignore[no-untyped-def]
    (result,) = Fedex().parse(body())
    assert result.error is not None and result.error.code == code


# -- USPS ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    lambda: sample("usps", "TrackingResponse.json"),
    lambda: vendor_sample("usps_tracking_v3_response_recorded__karrio_test.json"),
])
def test_usps_delivered_to_parcel_locker(body) -> None:  # type: ignore[no-untyped-def]
    (result,) = Usps().parse(body())
    assert result.tracking_number == "9400109104250532908587"
    assert result.status is S.DELIVERED and result.delivered_to == "parcel_locker"
    assert result.service == "USPS Ground Advantage™"
    assert len(result.events) == 12
    assert_newest_first(result)
    assert result.events[0].occurred_at == datetime(2024, 11, 22, 13, 58, 40, tzinfo=offset(-5))
    assert result.events[1].status is S.OUT_FOR_DELIVERY
    assert result.events[-1].status is S.LABEL_CREATED and result.events[-1].code == "GX"


def test_usps_detail_example_reads_local_time_despite_the_z() -> None:
    (result,) = Usps().parse(vendor_sample("usps_tracking_v3_detail_response__usps_api_examples.json"))
    assert result.status is S.IN_TRANSIT
    (event,) = result.events
    # "7:31 am ... in RICHMOND, VA" per USPS's own summary: local Eastern time, not UTC
    assert event.occurred_at == datetime(2023, 8, 2, 7, 31, tzinfo=offset(-4))


def test_usps_summary_shape_maps_by_text_only() -> None:
    (result,) = Usps().parse(vendor_sample("usps_tracking_v3_summary_response__usps_api_examples.json"))
    assert result.tracking_number == "XXXXXXXXXXXXXXXXXXXX"
    assert result.status is S.IN_TRANSIT and not result.events


@pytest.mark.parametrize(("name", "code"), [("AuthErrorResponse.json", E.AUTH),
                                            ("ErrorResponse.json", E.BAD_RESPONSE)])
def test_usps_error_bodies(name: str, code: str) -> None:
    (result,) = Usps().parse(sample("usps", name))
    assert result.error is not None and result.error.code == code


# -- coverage guard: a new sample file must get an expectation above ---------------------------------------


COVERED = {
    "dhl_universal": {"TrackingResponseJSON.json", "TrackingErrorResponseJSON.json"},
    "dhl_parcel_de": {"TrackingResponseXML.xml", "LiveSandbox_d-get-piece-detail_2026-01-28.xml",
                      "TrackingErrorResponseXML.xml"},
    "ups": {"TrackingResponseJSON.json", "InvalidTrackingNumberResponseJSON.json",
            "TrackingNumberNotFoundResponseJSON.json", "AuthError.json"},
    "fedex": {"TrackingResponse.json", "DuplicateTrackingResponse.json", "InconsistentDateTimeResponse.json",
              "ProofOfDeliveryResponse.json", "ErrorResponse.json"},
    "usps": {"TrackingResponse.json", "AuthErrorResponse.json", "ErrorResponse.json"},
}
PARSERS = {"dhl_universal": Dhl, "dhl_parcel_de": DhlParcelDe, "ups": Ups, "fedex": Fedex, "usps": Usps}


@pytest.mark.parametrize("folder", sorted(COVERED))
def test_every_sample_has_an_expectation_and_parses(folder: str) -> None:
    directory = CARRIER_SAMPLES / folder
    if not directory.exists():
        pytest.skip("shared carrier samples not available")
    bodies = {p.name for p in directory.iterdir() if ".karrio-parsed." not in p.name}
    assert bodies == COVERED[folder]
    for name in bodies - {"ProofOfDeliveryResponse.json"}:
        assert PARSERS[folder]().parse((directory / name).read_bytes())


def test_every_vendor_carrier_sample_parses() -> None:
    if not VENDOR_CARRIERS.exists():
        pytest.skip("shared vendor samples not available")
    prefixes = {"dhl_unified": Dhl, "ups_": Ups, "fedex_": Fedex, "usps_": Usps}
    for path in VENDOR_CARRIERS.iterdir():
        parser = next(cls for prefix, cls in prefixes.items() if path.name.startswith(prefix))
        assert parser().parse(path.read_bytes()), path.name
