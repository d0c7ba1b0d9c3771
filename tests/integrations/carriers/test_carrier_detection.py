"""Carrier detection: the store's carrier name first, then number formats with their check digits."""
from __future__ import annotations

import pytest

from integrations.carriers.detection import detect_carrier, is_valid_s10, s10_check_digit


@pytest.mark.parametrize(("name", "code"), [
    ("DHL", "dhl"), ("DHL Express", "dhl"), ("Deutsche Post", "dhl"), ("DHL Paket", "dhl_parcel_de"),
    ("dhl-de", "dhl_parcel_de"), ("UPS", "ups"), ("FedEx", "fedex"), ("FedEx Ground", "fedex"), ("USPS", "usps"),
    ("DPD", "dpd"), ("dpd-de", "dpd"), ("GLS", "gls"), ("Hermes", "hermes"), ("La Poste", "laposte"),
    ("Colissimo", "laposte"), ("Royal Mail", "royalmail"), ("Canada Post", "canadapost"),
    ("United Parcel Service", "ups"), ("DHL Paket GmbH", "dhl_parcel_de"),
])
def test_store_carrier_names(name: str, code: str) -> None:
    assert detect_carrier(carrier_name=name, tracking_number="") == code


def test_name_wins_over_number() -> None:
    assert detect_carrier(carrier_name="DHL Paket", tracking_number="986578788855") == "dhl_parcel_de"


def test_unknown_name_falls_back_to_number() -> None:
    assert detect_carrier(carrier_name="Other", tracking_number="1Z023E2X0214323462") == "ups"
    assert detect_carrier(carrier_name=None, tracking_number="1Z023E2X0214323462") == "ups"


@pytest.mark.parametrize(("number", "code"), [
    ("1Z023E2X0214323462", "ups"), ("1Z5R89390357567127", "ups"), ("1z879e930346834440", "ups"),
    ("986578788855", "fedex"), ("799531274483", "fedex"), ("041441760228964", "fedex"),
    ("9611020987654312345672", "fedex"),
    ("9400109104250532908587", "usps"), ("9400 1112 0108 0805 4830 16", "usps"), ("9361289878700317633795", "usps"),
    ("92748931507708513018050063", "usps"), ("EE123456785US", "usps"),
    ("00340434161094015902", "dhl_parcel_de"), ("JJD0099999999", "dhl_parcel_de"), ("RR123456785DE", "dhl_parcel_de"),
    ("3318810025", "dhl"), ("73891051146", "dhl"),
    ("01234567890123", "dpd"), ("H1000530000016100105", "hermes"),
    ("RR123456785GB", "royalmail"), ("RR123456785FR", "laposte"),
])
def test_number_formats(number: str, code: str) -> None:
    assert detect_carrier(carrier_name=None, tracking_number=number) == code


@pytest.mark.parametrize("number", [
    "1Z5R89390357567128",  # UPS check digit wrong
    "9400111201080805483017",  # IMpb check digit wrong
    "9600000000000000000001",  # FedEx 96 check digit wrong
    "3318810010",  # DHL Express mod 7 wrong
    "RR123456784DE",  # S10 check digit wrong
    "RR123456785XX",  # valid S10 of a post we do not know
    "", "hello", "12345",
])
def test_invalid_or_unknown_numbers(number: str) -> None:
    assert detect_carrier(carrier_name=None, tracking_number=number) is None


def test_s10_check_digit() -> None:
    assert s10_check_digit("12345678") == 5
    assert is_valid_s10("RR123456785DE") and not is_valid_s10("RR12345678DE")


@pytest.mark.parametrize(("number", "code"), [
    ("05308801410058", "dpd"), ("0530 8801 4100 58", "dpd"),  # DPD: 14 digits
    ("36301917596", "gls"), ("93835368025", "gls"),  # GLS 11-digit parcel numbers (not DHL Express mod 7)
    ("H1234567890123456789", "hermes"), ("H1000530000016100105", "hermes"),
    ("RR123456785GB", "royalmail"), ("FQ087430672GB", "royalmail"),  # S10 with a valid check digit
    ("EW112720413FR", "laposte"), ("RR123456785FR", "laposte"), ("6A15602676300", "laposte"),  # S10, Colissimo
    ("RR123456785CA", "canadapost"), ("7023210039414604", "canadapost"),  # S10, 16-digit PIN with check digit
])
def test_european_and_postal_formats(number: str, code: str) -> None:
    assert detect_carrier(carrier_name=None, tracking_number=number) == code


@pytest.mark.parametrize("number", [
    "FQ087430673GB",  # Royal Mail S10, check digit wrong
    "EW112720414FR",  # La Poste S10, check digit wrong
    "RR123456786CA",  # Canada Post S10, check digit wrong
    "7023210039414605",  # Canada Post PIN, check digit wrong
    "0530880141005",  # 13 digits: no DPD parcel number
    "H12345",  # too short for Hermes
    "6A1560267630",  # Colissimo needs 11 digits after the letter
])
def test_european_and_postal_formats_invalid(number: str) -> None:
    assert detect_carrier(carrier_name=None, tracking_number=number) is None
