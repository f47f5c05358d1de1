"""When a workflow email is due: pure functions of the rule, the occurrence and the timezone.

The tick ("what is due now") and the timeline ("what will be due when") both call ``due_at``; the
tick also asks ``occurrence_ranges`` which occurrences can fall due inside a window, so that its
queries read only those (indexed ranges), never the history.

Rules (ARCHITECTURE.md, "A workflow email's schedule"): *instant* is due at the occurrence;
*N days before/after* on the studio-local date of the occurrence minus/plus N, at the send time;
an "after" email is never due before its occurrence, a "before" email never after it. Local times
skipped by a daylight-saving change go that much later; ambiguous ones take the first occurrence.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.timeutil import from_local
from app.workflows.models import Rule


def due_at(rule, days, send_time, occurrence_at, timezone_name):
    """The UTC instant a workflow email is due for an occurrence at ``occurrence_at``."""
    if rule == Rule.INSTANT:
        return occurrence_at
    local_day = occurrence_at.astimezone(ZoneInfo(timezone_name)).date()
    offset = timedelta(days=days if rule == Rule.DAYS_AFTER else -days)
    planned = from_local(datetime.combine(local_day + offset, send_time or time()), timezone_name)
    if rule == Rule.DAYS_AFTER:
        return max(planned, occurrence_at)
    return min(planned, occurrence_at)


def _local_midnight(day: date, timezone_name):
    return from_local(datetime.combine(day, time()), timezone_name)


def occurrence_ranges(rule, days, send_time, timezone_name, window_start, window_end):
    """Half-open UTC ranges [from, to) of occurrence instants whose email can be due in
    (window_start, window_end]. Exact for the local-date part; the caller filters with ``due_at``.
    """
    if rule == Rule.INSTANT:
        return [(window_start, window_end + timedelta(microseconds=1))]
    zone = ZoneInfo(timezone_name)
    offset = timedelta(days=days if rule == Rule.DAYS_AFTER else -days)
    # The planned send falls on the local date of the occurrence + offset, at the send time:
    # read the occurrences of the local dates whose planned send lies inside the window. A
    # window of a minute usually holds no send time at all, and then reads nothing here.
    ranges = []
    day = window_start.astimezone(zone).date()
    while day <= window_end.astimezone(zone).date():
        planned = from_local(datetime.combine(day, send_time or time()), timezone_name)
        if window_start < planned <= window_end:
            occurrence_day = day - offset
            ranges.append(
                (
                    _local_midnight(occurrence_day, timezone_name),
                    _local_midnight(occurrence_day + timedelta(days=1), timezone_name),
                )
            )
        day += timedelta(days=1)
    # An "after" email is also due at the occurrence itself when its planned time has passed
    # (0 days after an order placed at 15:00 with send time 09:00 goes at 15:00); a "before"
    # one likewise when the occurrence comes before its planned time.
    ranges.append((window_start, window_end + timedelta(microseconds=1)))
    return merge_ranges(ranges)


def merge_ranges(ranges):
    """Sorted, overlapping or touching ranges joined."""
    if not ranges:
        return []
    ordered = sorted(ranges)
    merged = [ordered[0]]
    for start, end in ordered[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
