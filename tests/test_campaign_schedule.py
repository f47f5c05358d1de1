"""Due-time arithmetic across timezones, daylight-saving changes and month ends."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workflows.models import Rule
from app.workflows.schedule import due_at, occurrence_ranges

ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "America/Santiago",
    "Europe/London",
    "UTC",
    "Pacific/Kiritimati",
]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_instant_is_the_occurrence_itself():
    moment = utc(2027, 3, 1, 7, 13)
    assert due_at(Rule.INSTANT, 0, None, moment, "Europe/Paris") == moment


def test_days_after_goes_on_the_local_date_at_the_send_time():
    # Registered at 23:30 Paris on 28 Feb 2027 (22:30 UTC): 3 days after at 09:00 is 3 March.
    due = due_at(Rule.DAYS_AFTER, 3, time(9), utc(2027, 2, 28, 22, 30), "Europe/Paris")
    assert due == utc(2027, 3, 3, 8, 0)


def test_zero_days_after_an_order_at_15h_with_send_time_9h_goes_at_15h():
    placed = utc(2027, 3, 1, 14, 0)  # 15:00 Paris
    assert due_at(Rule.DAYS_AFTER, 0, time(9), placed, "Europe/Paris") == placed


def test_days_before_never_goes_after_the_occurrence():
    sale_end = utc(2027, 3, 21, 5, 0)  # 06:00 Paris
    assert due_at(Rule.DAYS_BEFORE, 0, time(18), sale_end, "Europe/Paris") == sale_end
    assert due_at(Rule.DAYS_BEFORE, 2, time(18), sale_end, "Europe/Paris") == utc(2027, 3, 19, 17)


def test_spring_forward_send_time_goes_an_hour_later():
    # Paris skips 02:00-03:00 on 28 March 2027: 02:30 becomes 03:30 CEST (01:30 UTC).
    due = due_at(Rule.DAYS_AFTER, 1, time(2, 30), utc(2027, 3, 27, 10), "Europe/Paris")
    assert due == utc(2027, 3, 28, 1, 30)


def test_fall_back_send_time_takes_its_first_occurrence():
    # Paris repeats 02:00-03:00 on 31 October 2027: 02:30 is taken in CEST (00:30 UTC).
    due = due_at(Rule.DAYS_AFTER, 1, time(2, 30), utc(2027, 10, 30, 10), "Europe/Paris")
    assert due == utc(2027, 10, 31, 0, 30)


def test_month_and_leap_year_ends():
    assert due_at(Rule.DAYS_AFTER, 1, time(9), utc(2028, 2, 28, 12), "UTC") == utc(2028, 2, 29, 9)
    assert due_at(Rule.DAYS_AFTER, 1, time(9), utc(2027, 2, 28, 12), "UTC") == utc(2027, 3, 1, 9)
    assert due_at(Rule.DAYS_BEFORE, 1, time(9), utc(2027, 3, 1, 12), "UTC") == utc(2027, 2, 28, 9)


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
send_times = st.times().map(lambda t: t.replace(microsecond=0))


@settings(max_examples=300, deadline=None)
@given(
    occurrence=moments,
    days=st.integers(0, 365),
    send_time=send_times,
    zone=st.sampled_from(ZONES),
    rule=st.sampled_from([Rule.DAYS_AFTER, Rule.DAYS_BEFORE]),
)
def test_due_time_properties(occurrence, days, send_time, zone, rule):
    due = due_at(rule, days, send_time, occurrence, zone)
    tz = ZoneInfo(zone)
    if rule == Rule.DAYS_AFTER:
        assert due >= occurrence
        expected_day = occurrence.astimezone(tz).date() + timedelta(days=days)
    else:
        assert due <= occurrence
        expected_day = occurrence.astimezone(tz).date() - timedelta(days=days)
    if due != occurrence:  # not clamped to the occurrence: the planned local date and time
        local = due.astimezone(tz)
        assert local.date() == expected_day or local.time() < send_time  # only a DST gap moves it
        # a skipped wall-clock time moves forward by the gap (at most 2 hours anywhere)
        planned = datetime.combine(expected_day, send_time)
        assert (
            timedelta(0) <= local.replace(tzinfo=None) - planned <= timedelta(hours=2)
            or local.replace(tzinfo=None) == planned
        )


@settings(max_examples=300, deadline=None)
@given(
    occurrence=moments,
    days=st.integers(0, 60),
    send_time=send_times,
    zone=st.sampled_from(ZONES),
    rule=st.sampled_from(list(Rule)),
    lag=st.integers(0, 36 * 3600),
)
def test_the_tick_window_finds_every_occurrence_due_inside_it(occurrence, days, send_time, zone, rule, lag):
    """occurrence_ranges never misses an occurrence whose due time falls in the window."""
    due = due_at(rule, days, send_time, occurrence, zone)
    window_end = due + timedelta(seconds=lag % (24 * 3600))
    window_start = window_end - timedelta(hours=24)
    ranges = occurrence_ranges(rule, days, send_time, zone, window_start, window_end)
    if window_start < due <= window_end:
        assert any(low <= occurrence < high for low, high in ranges)


@pytest.mark.parametrize("zone", ZONES)
def test_ranges_are_narrow(zone):
    """A 24-hour window reads at most four days of occurrences, whatever N is."""
    end = utc(2027, 6, 1, 12)
    for rule in (Rule.DAYS_AFTER, Rule.DAYS_BEFORE):
        ranges = occurrence_ranges(rule, 30, time(9), zone, end - timedelta(hours=24), end)
        assert sum((high - low for low, high in ranges), timedelta()) <= timedelta(days=4)
