"""Bookings as iCalendar (RFC 5545), the one place both calendars come from (SPEC §14): the mails'
invitations (notify: METHOD:REQUEST for a booking, METHOD:CANCEL when it is cancelled or released)
and the per-user feed (booking). Every booking is one all-day VEVENT whose UID is
`<booking id>@office-booker` everywhere, whose SEQUENCE grows with each change of the booking, so
calendar clients (Outlook, Google Calendar, Apple Calendar) update the one event."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress

PRODID = "-//Office Booker//Office Booker//EN"
# Booking status -> VEVENT STATUS: a ballot request is TENTATIVE; cancelled, released and a
# request that lost its draw are CANCELLED.
STATUS = {"active": "CONFIRMED", "requested": "TENTATIVE", "cancelled": "CANCELLED", "released": "CANCELLED",
          "waitlisted": "CANCELLED"}


def uid(booking_id: str) -> str:
    return f"{booking_id}@office-booker"


def booking_event(booking: dict, sequence: int, organizer: str, changed_at: datetime | None = None,
                  attendee: bool = False, cancelled: bool = False) -> Event:
    """The booking's VEVENT. `attendee`: name its holder as ATTENDEE (an invitation);
    `cancelled`: STATUS:CANCELLED whatever the booking's status (a METHOD:CANCEL)."""
    day = date.fromisoformat(booking["date"])
    office = booking["office"]["name"]
    event = Event()
    event.add("uid", uid(booking["id"]))
    event.add("sequence", sequence)
    event.add("dtstamp", changed_at or datetime.now(UTC))
    event.add("last-modified", changed_at or datetime.now(UTC))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", f"Office: {office}" + (" (with parking)" if booking["parking"] else "")
              + (" (requested)" if booking["status"] == "requested" else ""))
    event.add("location", office)
    event.add("description", f"Office Booker booking {booking['id']}.")
    event.add("status", "CANCELLED" if cancelled else STATUS.get(booking["status"], "CONFIRMED"))
    event.add("transp", "TRANSPARENT")
    event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    if attendee:
        holder = vCalAddress(f"mailto:{booking['user']}")
        holder.params["role"] = "REQ-PARTICIPANT"
        holder.params["partstat"] = "ACCEPTED"
        event.add("attendee", holder)
    return event


def calendar(events: Iterable[Event], method: str | None = None, name: str | None = None) -> str:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    return cal.to_ical().decode()


def invitation(booking: dict, sequence: int, organizer: str, cancel: bool = False) -> dict:
    """The mail attachment: METHOD:REQUEST for a booking, METHOD:CANCEL for its cancellation or
    release (same UID, the later SEQUENCE)."""
    method = "CANCEL" if cancel else "REQUEST"
    ics = calendar([booking_event(booking, sequence, organizer, attendee=True, cancelled=cancel)], method)
    return {"filename": "cancel.ics" if cancel else "invite.ics",
            "content_type": f"text/calendar; method={method}", "content": ics}
