"""Which carrier a parcel belongs to: the store's carrier name first, the tracking number's format second."""
from __future__ import annotations

import re

# Carrier names as stores and merchants write them, normalized (lower case, letters and digits only).
NAME_CODES: dict[str, str] = {
    "dhl": "dhl", "dhlexpress": "dhl", "dhlecommerce": "dhl", "dhlglobalmail": "dhl", "dhlparcel": "dhl",
    "deutschepost": "dhl", "deutschepostdhl": "dhl",
    "dhlpaket": "dhl_parcel_de", "dhlde": "dhl_parcel_de", "dhlgermany": "dhl_parcel_de",
    "dhlparcelde": "dhl_parcel_de", "dhlpaketde": "dhl_parcel_de", "dhlparcelgermany": "dhl_parcel_de",
    "ups": "ups", "unitedparcelservice": "ups", "upsmailinnovations": "ups",
    "fedex": "fedex", "federalexpress": "fedex", "fedexground": "fedex", "fedexexpress": "fedex",
    "usps": "usps", "unitedstatespostalservice": "usps", "uspostalservice": "usps",
    "dpd": "dpd", "dpdde": "dpd", "dpdgermany": "dpd", "dpduk": "dpd", "dpdgroup": "dpd",
    "gls": "gls", "glsde": "gls", "glsgermany": "gls", "glsgroup": "gls",
    "hermes": "hermes", "hermesde": "hermes", "hermesgermany": "hermes", "evri": "hermes",
    "laposte": "laposte", "colissimo": "laposte", "lapostecolissimo": "laposte",
    "royalmail": "royalmail", "parcelforce": "royalmail",
    "canadapost": "canadapost", "postescanada": "canadapost",
}

_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def normalize_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def carrier_from_name(name: str | None) -> str | None:
    if not name:
        return None
    key = normalize_name(name)
    if key in NAME_CODES:
        return NAME_CODES[key]
    # "DHL Paket Germany GmbH", "UPS Standard": the longest known name the text starts with
    for known in sorted(NAME_CODES, key=len, reverse=True):
        if key.startswith(known):
            return NAME_CODES[known]
    return None


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of the 8-digit serial."""
    total = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS))
    check = 11 - total % 11
    return 5 if check == 11 else 0 if check == 10 else check


def is_valid_s10(number: str) -> bool:
    match = _S10.match(number)
    return bool(match) and s10_check_digit(match.group(2)) == int(match.group(3))


def ups_check_digit_ok(number: str) -> bool:
    """1Z + 6 shipper + 2 service + 7 package + 1 check; letters count as (ord - 63) % 10 (UPS's scheme)."""
    body, check = number[2:-1], number[-1]
    if not check.isdigit():
        return False
    total = 0
    for index, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * (2 if index % 2 else 1)
    return (10 - total % 10) % 10 == int(check)


def gs1_mod10_ok(digits: str) -> bool:
    """GS1 / IMpb check digit: weights 3,1,3... from the right of the payload."""
    payload, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10 == check


def fedex_12_ok(digits: str) -> bool:
    """FedEx Express 12 digits: weights 3,1,7 from the left of the 11-digit serial, mod 11, mod 10."""
    weights = (3, 1, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(digits[:11]))
    return total % 11 % 10 == int(digits[11])


def dhl_express_ok(digits: str) -> bool:
    """DHL Express waybill: the last digit is the serial modulo 7."""
    return int(digits[:-1]) % 7 == int(digits[-1])


_S10_COUNTRIES = {"US": "usps", "DE": "dhl_parcel_de", "GB": "royalmail", "FR": "laposte", "CA": "canadapost"}


def carrier_from_number(number: str) -> str | None:
    """The carrier a number's format and check digit point to; None when unknown or the check digit fails."""
    n = re.sub(r"[\s-]", "", number).upper()
    if re.fullmatch(r"1Z[0-9A-Z]{16}", n):
        return "ups" if ups_check_digit_ok(n) else None
    match = _S10.match(n)
    if match:
        # UPU S10 (RR123456785DE): the posts of the suffix country; others are not implemented -> None
        return _S10_COUNTRIES.get(match.group(4)) if is_valid_s10(n) else None
    if re.fullmatch(r"JJD\d{9,21}|JVGL\d{9,20}|JD\d{18}", n):
        return "dhl_parcel_de"
    if re.fullmatch(r"H\d{15,19}", n):
        return "hermes"
    if re.fullmatch(r"\d[A-Z]\d{11}", n):
        return "laposte"  # Colissimo domestic (6A..., 8R..., 9V...)
    if not n.isdigit():
        return None
    length = len(n)
    if length == 22 and n.startswith("96"):
        return "fedex" if gs1_mod10_ok(n[7:]) else None  # FedEx Ground 96: check over the 14-digit serial
    if length in (20, 22, 26) and n[:2] in ("91", "92", "93", "94", "95"):
        return "usps" if gs1_mod10_ok(n) else None  # IMpb
    if length in (30, 34) and n.startswith("420"):
        return "usps" if gs1_mod10_ok(n[8:] if length == 30 else n[12:]) else None  # ZIP routing + IMpb
    if length == 20 and n.startswith("00340"):
        return "dhl_parcel_de" if gs1_mod10_ok(n[2:]) else None  # SSCC-based DHL Paket code
    if length == 12:
        # FedEx Express and DHL Paket both use 12 digits; FedEx's check digit decides, a store's name is better.
        return "fedex" if fedex_12_ok(n) else "dhl_parcel_de"
    if length == 15:
        return "fedex" if gs1_mod10_ok(n) else None  # FedEx Ground
    if length == 14:
        return "dpd"
    if length == 16:
        return "canadapost" if gs1_mod10_ok(n) else None  # Canada Post 16-digit PIN
    if length == 11 and not dhl_express_ok(n):
        return "gls"  # GLS parcel numbers are 11 (or 12) digits; DHL Express waybills pass their mod-7 check
    if length in (10, 11):
        return "dhl" if dhl_express_ok(n) else None
    return None


def detect_carrier(*, carrier_name: str | None, tracking_number: str) -> str | None:
    """The store's carrier name wins; the number's format decides only when the name says nothing."""
    return carrier_from_name(carrier_name) or carrier_from_number(tracking_number)
