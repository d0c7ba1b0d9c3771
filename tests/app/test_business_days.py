"""Business days: German and US holidays, weekends, the destination's local dates and both DST changes."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from app.services.business_days import calendar_for, destination_zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# (origin, destination, day, saturdays count, is a business day)
DAYS = [
    ("DE", "DE", date(2026, 12, 24), True, True),  # Christmas Eve is not a public holiday
    ("DE", "DE", date(2026, 12, 25), True, False),
    ("DE", "DE", date(2026, 12, 26), True, False),  # Second Day of Christmas, a Saturday too
    ("DE", "DE", date(2026, 12, 27), True, False),  # Sunday
    ("DE", "DE", date(2026, 12, 28), True, True),
    ("US", "US", date(2026, 12, 26), True, True),  # no Boxing Day in the US
    ("DE", "DE", date(2026, 4, 6), True, False),  # Easter Monday
    ("US", "US", date(2026, 4, 6), True, True),
    ("DE", "US", date(2026, 4, 6), True, False),  # a holiday at either end stops the parcel
    ("US", "US", date(2026, 11, 26), True, False),  # Thanksgiving
    ("DE", "DE", date(2026, 11, 26), True, True),
    ("US", "DE", date(2026, 11, 26), True, False),
    ("US", "US", date(2026, 7, 3), True, False),  # Independence Day observed (July 4th is a Saturday)
    ("US", "US", date(2026, 7, 4), True, False),
    ("DE", "DE", date(2026, 7, 3), True, True),
    ("DE", "DE", date(2026, 11, 28), True, True),  # Saturday counts by default
    ("DE", "DE", date(2026, 11, 28), False, False),  # ... unless the store says otherwise
    ("DE", "DE", date(2026, 11, 29), True, False),  # Sunday never counts
    ("DE", "XX", date(2026, 11, 30), True, True),  # unknown country: weekends only
]


@pytest.mark.parametrize("origin,destination,day,saturdays,expected", DAYS)
def test_business_day(origin, destination, day, saturdays, expected):
    cal = calendar_for(origin=origin, destination=destination, saturdays=saturdays)
    assert cal.is_business_day(day) is expected


# (origin, destination, destination postcode, Saturdays, last scan, business days, due instant)
DUE = [
    # Europe springs forward on Sunday 29 March: 10:00 Berlin stays 10:00 Berlin (08:00 UTC instead of 09:00).
    ("DE", "DE", None, True, utc(2026, 3, 27, 9), 3, utc(2026, 3, 31, 8)),
    # ... and falls back on Sunday 25 October.
    ("DE", "DE", None, True, utc(2026, 10, 23, 8), 3, utc(2026, 10, 27, 9)),
    # US springs forward on 8 March (second Sunday); Saturdays switched off.
    ("US", "US", "10001", False, utc(2026, 3, 6, 15), 3, utc(2026, 3, 11, 14)),
    # ... and falls back on 1 November (first Sunday).
    ("US", "US", "10001", False, utc(2026, 10, 30, 14), 3, utc(2026, 11, 4, 15)),
    # Christmas in Germany: Thu 24 counts, 25/26 and Sunday do not.
    ("DE", "DE", None, True, utc(2026, 12, 23, 11), 3, utc(2026, 12, 29, 11)),
    # Easter in Germany: Good Friday and Easter Monday do not count, the Saturday between does.
    ("DE", "DE", None, True, utc(2026, 4, 2, 8), 3, utc(2026, 4, 8, 8)),
    # From Germany to New York over Thanksgiving: counted in New York's dates, skipping the US holiday.
    ("DE", "US", "10001", True, utc(2026, 11, 25, 14), 3, utc(2026, 11, 30, 14)),
    # A scan on a Sunday starts the clock at Monday midnight.
    ("DE", "DE", None, True, utc(2026, 11, 29, 12), 1, utc(2026, 11, 30, 23)),
]


@pytest.mark.parametrize("origin,destination,postcode,saturdays,start,days,due", DUE)
def test_due_after_business_days(origin, destination, postcode, saturdays, start, days, due):
    cal = calendar_for(origin=origin, destination=destination, postcode=postcode, saturdays=saturdays)
    assert cal.add(start, days) == due
    assert cal.elapsed(start, due) == pytest.approx(days)
    assert cal.elapsed(start, due - timedelta(minutes=1)) < days


def test_days_are_the_destinations_local_dates():
    # 03:00 UTC on Monday 30 November is still Sunday evening in Los Angeles: no business time has passed yet.
    la = calendar_for(origin="US", destination="US", postcode="90001", saturdays=False)
    assert la.elapsed(utc(2026, 11, 30, 3), utc(2026, 11, 30, 8)) == 0
    assert la.elapsed(utc(2026, 11, 30, 3), utc(2026, 12, 1, 8)) == pytest.approx(1)
    # The same instants counted in Berlin's dates are Monday business hours.
    berlin = calendar_for(origin="DE", destination="DE")
    assert berlin.elapsed(utc(2026, 11, 30, 3), utc(2026, 11, 30, 8)) == pytest.approx(5 / 24)


def test_the_short_and_long_dst_days_count_as_one_day():
    cal = calendar_for(origin="DE", destination="DE")
    # Saturday 28 March 00:00 Berlin to Tuesday 31 March 00:00 Berlin: Sat + Mon, Sunday (23 h) skipped.
    assert cal.elapsed(utc(2026, 3, 27, 23), utc(2026, 3, 30, 22)) == pytest.approx(2)
    # Over the 25-hour Sunday in October.
    assert cal.elapsed(utc(2026, 10, 23, 22), utc(2026, 10, 26, 23)) == pytest.approx(2)


def test_whole_days_between_local_dates():
    cal = calendar_for(origin="DE", destination="DE")
    assert cal.business_days_between(date(2026, 12, 23), date(2026, 12, 29)) == 3


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        calendar_for(origin="DE", destination="DE").elapsed(datetime(2026, 1, 1), utc(2026, 1, 2))


@pytest.mark.parametrize("country,postcode,zone", [
    ("DE", None, "Europe/Berlin"), ("US", "10001", "America/New_York"), ("US", "90001", "America/Los_Angeles"),
    ("US", None, "America/New_York"), ("XX", None, "UTC"),
])
def test_destination_zone(country, postcode, zone):
    assert destination_zone(country, postcode).key == zone
