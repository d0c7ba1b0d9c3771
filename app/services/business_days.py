"""Business days across a parcel's origin and destination countries: public holidays, weekends, local dates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DAY = timedelta(days=1)
UTC = ZoneInfo("UTC")

# The zone a country's parcels are delivered in; countries spanning several zones get their most populous one
# (the US is refined by ZIP code below). Unlisted countries count in UTC, which is off by hours, never by days.
COUNTRY_ZONES: dict[str, str] = {
    "DE": "Europe/Berlin", "AT": "Europe/Vienna", "CH": "Europe/Zurich", "FR": "Europe/Paris", "GB": "Europe/London",
    "IE": "Europe/Dublin", "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "LU": "Europe/Luxembourg",
    "IT": "Europe/Rome", "ES": "Europe/Madrid", "PT": "Europe/Lisbon", "PL": "Europe/Warsaw", "CZ": "Europe/Prague",
    "DK": "Europe/Copenhagen", "SE": "Europe/Stockholm", "NO": "Europe/Oslo", "FI": "Europe/Helsinki",
    "US": "America/New_York", "CA": "America/Toronto", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
    "JP": "Asia/Tokyo",
}
# First ZIP digit -> zone: good enough to tell which calendar day it is at the door.
US_ZIP_ZONES: dict[str, str] = {
    "0": "America/New_York", "1": "America/New_York", "2": "America/New_York", "3": "America/New_York",
    "4": "America/New_York", "5": "America/Chicago", "6": "America/Chicago", "7": "America/Chicago",
    "8": "America/Denver", "9": "America/Los_Angeles",
}


def destination_zone(country: str | None, postcode: str | None = None) -> ZoneInfo:
    code = (country or "").upper()
    if code == "US" and postcode and postcode.strip()[:1] in US_ZIP_ZONES:
        return ZoneInfo(US_ZIP_ZONES[postcode.strip()[:1]])
    return ZoneInfo(COUNTRY_ZONES.get(code, "UTC"))


@lru_cache(maxsize=512)
def _holidays(country: str, year: int) -> frozenset[date]:
    """Nationwide public holidays only: a parcel crosses regions, and carriers run on the national calendar."""
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:  # a country the package does not know: weekends only
        return frozenset()


@dataclass(frozen=True)
class BusinessCalendar:
    """A day counts only if it is a business day in every one of `countries` (origin and destination).

    Sundays never count. Saturdays count by default: DHL, Deutsche Post and USPS deliver on Saturdays, so a
    parcel that sits all Saturday is sitting; stores whose carriers rest on Saturdays switch them off.
    """

    countries: tuple[str, ...]
    zone: ZoneInfo = UTC
    saturdays: bool = True

    def is_business_day(self, day: date) -> bool:
        weekday = day.weekday()
        if weekday == 6 or (weekday == 5 and not self.saturdays):
            return False
        return not any(day in _holidays(c, day.year) for c in self.countries)

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("business-day arithmetic needs timezone-aware datetimes")
        # Wall-clock time, so every local day is 24 hours long even on the days clocks change.
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Business days between two instants, counting the business parts of each local day (fractions too)."""
        a, b = self._local(start), self._local(end)
        if b <= a:
            return 0.0
        total = timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_business_day(day):
                lo = max(a, datetime.combine(day, time()))
                hi = min(b, datetime.combine(day + DAY, time()))
                if hi > lo:
                    total += hi - lo
            day += DAY
        return total / DAY

    def add(self, start: datetime, days: float) -> datetime:
        """The instant when `days` business days have passed since `start` (the inverse of `elapsed`)."""
        if days <= 0:
            return start
        cursor = self._local(start)
        remaining = timedelta(days=days)
        for _ in range(3700):  # ten years of days: a bound, not a limit anyone reaches
            day = cursor.date()
            day_end = datetime.combine(day + DAY, time())
            if self.is_business_day(day):
                available = day_end - cursor
                if available >= remaining:
                    return _aware(cursor + remaining, self.zone)
                remaining -= available
            cursor = day_end
        raise ValueError("no business days found within ten years")

    def business_days_between(self, start: date, end: date) -> int:
        """Whole business days after `start` up to and including `end` (local dates)."""
        count, day = 0, start + DAY
        while day <= end:
            count += self.is_business_day(day)
            day += DAY
        return count


def _aware(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as an instant. A time inside the spring-forward gap takes the offset before the change
    (fold=0), which lands just after the gap; a repeated autumn hour takes its first occurrence."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def calendar_for(*, origin: str | None, destination: str | None, postcode: str | None = None,
                 saturdays: bool = True) -> BusinessCalendar:
    countries = tuple(dict.fromkeys(c.upper() for c in (origin, destination) if c))
    zone = destination_zone(destination or origin, postcode if destination else None)
    return BusinessCalendar(countries=countries, zone=zone, saturdays=saturdays)
