// Parse an iCalendar document from stdin with ical.js (an independent parser) and print what the
// tests check: the calendar's METHOD and, per VEVENT, UID, SEQUENCE, STATUS, DTSTART, LOCATION.
import ICAL from "ical.js";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const calendar = new ICAL.Component(ICAL.parse(text));
const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    start: event.startDate.toString(),
    allDay: event.startDate.isDate,
    location: event.location,
  };
});
console.log(JSON.stringify({ method: calendar.getFirstPropertyValue("method"), events }));
