"""Timezone-aware parsing of carrier timestamps, including local times that come without an offset."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# Countries with a single civil timezone (mainland), so a carrier's local wall-clock time there has exactly one
# meaning. Multi-zone countries (US, CA, AU, BR, RU, MX...) are resolved by state where possible, never by guess.
COUNTRY_ZONES: dict[str, str] = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CH": "Europe/Zurich",
    "CN": "Asia/Shanghai", "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn", "ES": "Europe/Madrid", "FI": "Europe/Helsinki",
    "FR": "Europe/Paris", "GB": "Europe/London", "GR": "Europe/Athens", "HK": "Asia/Hong_Kong",
    "HR": "Europe/Zagreb", "HU": "Europe/Budapest", "IE": "Europe/Dublin", "IN": "Asia/Kolkata",
    "IT": "Europe/Rome", "JP": "Asia/Tokyo", "KR": "Asia/Seoul", "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg", "LV": "Europe/Riga", "MT": "Europe/Malta", "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo", "NZ": "Pacific/Auckland", "PL": "Europe/Warsaw", "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest", "SE": "Europe/Stockholm", "SG": "Asia/Singapore", "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava", "TR": "Europe/Istanbul", "UK": "Europe/London",
}

# English and German country names as DHL Parcel DE writes them in `event-country`.
COUNTRY_NAMES: dict[str, str] = {
    "germany": "DE", "deutschland": "DE", "austria": "AT", "österreich": "AT", "netherlands": "NL",
    "niederlande": "NL", "belgium": "BE", "belgien": "BE", "france": "FR", "frankreich": "FR",
    "switzerland": "CH", "schweiz": "CH", "italy": "IT", "italien": "IT", "poland": "PL", "polen": "PL",
    "denmark": "DK", "dänemark": "DK", "united kingdom": "GB", "großbritannien": "GB", "spain": "ES",
    "spanien": "ES", "czech republic": "CZ", "tschechien": "CZ", "luxembourg": "LU", "luxemburg": "LU",
    "sweden": "SE", "schweden": "SE",
}

# US states by their (predominant) zone; states split between zones take the zone of most of their population.
_US_ZONES: dict[str, tuple[str, ...]] = {
    "America/New_York": ("CT", "DC", "DE", "FL", "GA", "IN", "KY", "MA", "MD", "ME", "MI", "NC", "NH", "NJ", "NY",
                         "OH", "PA", "RI", "SC", "VA", "VT", "WV"),
    "America/Chicago": ("AL", "AR", "IA", "IL", "KS", "LA", "MN", "MO", "MS", "ND", "NE", "OK", "SD", "TN", "TX",
                        "WI"),
    "America/Denver": ("CO", "MT", "NM", "UT", "WY", "ID"),
    "America/Phoenix": ("AZ",),
    "America/Los_Angeles": ("CA", "NV", "OR", "WA"),
    "America/Anchorage": ("AK",),
    "Pacific/Honolulu": ("HI",),
    "America/Puerto_Rico": ("PR", "VI"),
}
US_STATE_ZONES: dict[str, str] = {state: zone for zone, states in _US_ZONES.items() for state in states}

_ISO_OFFSET = re.compile(r"([+-]\d{2}:?\d{2}|Z)$", re.IGNORECASE)


def zone_for(*, country: str | None = None, state: str | None = None) -> ZoneInfo | None:
    """The zone of a location, or None when it cannot be known without guessing."""
    code = (country or "").strip()
    code = COUNTRY_NAMES.get(code.lower(), code.upper())
    if code in ("US", "USA", "") and state:
        name = US_STATE_ZONES.get(state.strip().upper())
        if name:
            return ZoneInfo(name)
    name = COUNTRY_ZONES.get(code)
    return ZoneInfo(name) if name else None


def parse_iso(value: str, *, zone: ZoneInfo | None = None, ignore_offset: bool = False) -> datetime:
    """Parse ISO 8601; keep a given offset, else attach `zone` (local wall-clock time), else UTC.

    `ignore_offset` is for carriers known to label local wall-clock times with a wrong "Z".
    """
    text = value.strip()
    if ignore_offset:
        text = _ISO_OFFSET.sub("", text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return attach_zone(parsed, zone=zone)


def attach_zone(value: datetime, *, zone: ZoneInfo | None) -> datetime:
    if value.tzinfo is not None:
        return value
    # Without a zone we can only label it UTC; the alternative (the server's zone) would be a worse guess.
    return value.replace(tzinfo=zone or timezone.utc)


def fixed_offset(text: str) -> timezone:
    """'-05:00' / '+0100' -> a fixed-offset tzinfo."""
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text.strip())
    if not match:
        raise ValueError(f"not a UTC offset: {text!r}")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def parse_date(value: str) -> date:
    text = value.strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])
