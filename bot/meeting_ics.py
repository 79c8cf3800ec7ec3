"""One `.ics` file per meeting, so calendars follow moves and cancellations.

The UID never changes and SEQUENCE grows with every change, which is how calendar programs tell an
update of a known event from a new one; a cancelled meeting is sent with METHOD:CANCEL and
STATUS:CANCELLED. Times are written in UTC (`…Z`): unambiguous on every client, which then shows
them in the reader's own zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar

from bot.ports import Attachment
from storage.models import Meeting, MeetingStatus

PRODID = "-//Peerlink//Peer meetings//EN"
MIME_TYPE = "text/calendar"


def meeting_ics(meeting: Meeting, *, now: datetime) -> bytes:
    cancelled = meeting.status == MeetingStatus.cancelled
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", meeting.start_at)
    event.add("dtend", meeting.start_at + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", meeting.title)
    description = "\n\n".join(part for part in (meeting.agenda, meeting.video_link or "") if part)
    if description:
        event.add("description", description)
    if meeting.video_link:
        event.add("location", meeting.video_link)
        event.add("url", meeting.video_link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content


def ics_attachment(meeting: Meeting, *, now: datetime) -> Attachment:
    return Attachment(filename=f"meeting-{meeting.id}.ics", content=meeting_ics(meeting, now=now), mime_type=MIME_TYPE)
