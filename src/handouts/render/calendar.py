"""Reminders: an iCalendar file (RFC 5545) with one event per practice day of the week.

The events say only "Practice time" (no names, no topics, nothing a lock screen should
not show) unless the practice opts in with ``calendar_details: true``, and never in a
discreet packet. The same handout gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import icalendar

DAYS = 7
NEUTRAL = {"en": "Practice time", "es": "Tiempo de práctica"}
PRACTICE = {"en": "Practice", "es": "Práctica"}
MIN_MINUTES = 5


def calendar_bytes(handout) -> bytes | None:
    """Return the .ics of *handout*'s practice week (None when it holds no practice)."""
    profile = handout.profile
    rituals = list(handout.worksheets)
    if not rituals:
        return None
    minutes = max(MIN_MINUTES, sum(w.minutes for w in rituals))
    hour, minute = (int(part) for part in profile.calendar_time.split(":"))
    detailed = profile.calendar_details and not profile.discreet and not handout.alone
    summary = (f"{PRACTICE[profile.language]}: {', '.join(w.title for w in rituals)}"
               if detailed else NEUTRAL[profile.language])
    # a fixed stamp from the session date: the same handout gives the same file
    stamp = dt.datetime.combine(profile.session_date, dt.time(0, 0), tzinfo=dt.timezone.utc)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//handouts//practice reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    for day in range(DAYS):
        start = dt.datetime.combine(profile.session_date + dt.timedelta(days=day),
                                    dt.time(hour, minute))  # floating: the reader's local time
        event = icalendar.Event()
        uid = hashlib.sha256(f"{handout.form_id}|{day}".encode()).hexdigest()[:32]
        event.add("uid", f"{uid}@handouts.invalid")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("duration", dt.timedelta(minutes=minutes))
        event.add("summary", summary)
        event.add("transp", "TRANSPARENT")
        event.add("class", "PRIVATE")
        cal.add_component(event)
    return cal.to_ical()
