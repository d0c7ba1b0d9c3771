"""ISO 3166 alpha-3 to alpha-2 for the carriers that report alpha-3 country codes (Hermes, Royal Mail, AfterShip)."""
from __future__ import annotations

ALPHA3: dict[str, str] = {
    "AUS": "AU", "AUT": "AT", "BEL": "BE", "BGR": "BG", "CAN": "CA", "CHE": "CH", "CHN": "CN", "CYP": "CY",
    "CZE": "CZ", "DEU": "DE", "DNK": "DK", "ESP": "ES", "EST": "EE", "FIN": "FI", "FRA": "FR", "GBR": "GB",
    "GRC": "GR", "HKG": "HK", "HRV": "HR", "HUN": "HU", "IND": "IN", "IRL": "IE", "ITA": "IT", "JPN": "JP",
    "KOR": "KR", "LTU": "LT", "LUX": "LU", "LVA": "LV", "MEX": "MX", "MLT": "MT", "NLD": "NL", "NOR": "NO",
    "NZL": "NZ", "POL": "PL", "PRT": "PT", "ROU": "RO", "SGP": "SG", "SVK": "SK", "SVN": "SI", "SWE": "SE",
    "TUR": "TR", "USA": "US",
}


def alpha2(code: str | None) -> str | None:
    """'DEU' / 'DE' / 'de' -> 'DE'; None for anything else."""
    value = (code or "").strip().upper()
    if len(value) == 2 and value.isalpha():
        return value
    return ALPHA3.get(value)
