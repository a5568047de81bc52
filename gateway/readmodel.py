"""Offices and availability without an RPC per request: a read model in each gateway replica.

Offices come from the offices service once, then from its `office_created` / `office_updated`
events; a copy replaces the one held only if its `version` (the office's revision, in the list
loaded and in the events) is not lower, so an event that raced with the first load, or arrived
late, never puts an old office back. Per office and day, the counters come from booking's
`get_slots` the first time a day is asked for, then from the `availability` every
`booking_created` / `booking_cancelled` event carries. Each counter update has a `version` (it grows with every change of that office-day in
booking's database), so a late or replayed update never overwrites a newer one. Like the session
cache, the model is trusted only while the event listener is connected, and emptied on reconnect.

Day overrides (SPEC §15) come the same way: from `get_slots` (each day's `override`), then from
booking's `day_changed` events, ordered by the same per-office-day version (an override change
bumps it). A slot shows the day's effective values: the override's quotas where it sets them,
else the office's (so an office's quota change shows at once on days without an override).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date

from services.booking import rules as booking_rules
from services.offices.schemas import Office


class Availability:
    def __init__(self, load_offices: Callable[[], list[dict]],
                 load_slots: Callable[[str, list[str]], list[dict]]):
        self._load_offices = load_offices
        self._load_slots = load_slots
        self._offices: dict[str, dict] | None = None  # id -> office (SPEC §9 fields), in listing order
        self._versions: dict[str, int] = {}  # id -> offices' `version` of the copy in _offices
        self._early: list[tuple[dict, int]] = []  # (office, version) of events that came while loading
        self._counts: dict[tuple[str, str], tuple[int, int, int]] = {}  # (office, date) -> (booked, parking, version)
        self._overrides: dict[tuple[str, str], tuple[dict | None, int]] = {}  # (office, date) -> (override, version)
        self._lock = threading.Lock()
        self.trusted = False
        # GET /api/offices/{id}'s body, rendered once per change (the hottest read, issue 16):
        # office id -> (stamp, body); the stamp is the model's epoch (bumped when it is emptied),
        # the office's revision (bumped by any change of the office or one of its days) and the
        # dates asked for, so a body is served only while nothing it shows has changed.
        self._epoch = 0
        self._revisions: dict[str, int] = {}
        self._documents: dict[str, tuple[tuple, bytes]] = {}

    # ------------------------------------------------------------------ offices

    def offices(self) -> list[dict]:
        """Every office (retired included), in configured/created order."""
        current = self._offices if self.trusted else None
        if current is None:
            loaded = self._load_offices()
            with self._lock:
                offices: dict[str, dict] = {}
                versions: dict[str, int] = {}
                for office, version in [*((o, o.get("version", 0)) for o in loaded), *self._early]:
                    _keep_newer(offices, versions, office, version)  # an event may be newer than the list
                if self.trusted and self._offices is None:
                    self._offices, self._versions, self._early = offices, versions, []
            current = offices
        return list(current.values())

    def office(self, office_id: str) -> dict | None:
        current = self._offices if self.trusted else None
        if current is not None:
            return current.get(office_id)
        return next((o for o in self.offices() if o["id"] == office_id), None)

    def office_document(self, office_id: str, dates: Sequence[str], render: Callable[[dict], bytes]) -> bytes | None:
        """The office with its `dates`' slots, rendered by `render` (GET /api/offices/{id}'s
        body), or None for an unknown office. Rendered again only after a change of the office or
        one of its days: a change while rendering leaves the new body unused."""
        trusted = self.trusted
        stamp = (self._epoch, self._revisions.get(office_id, 0), tuple(dates))  # the same tuple: compared by identity
        held = self._documents.get(office_id) if trusted else None
        if held is not None and held[0] == stamp:
            return held[1]
        office = self.office(office_id)  # read after the stamp: a change from here on renders again
        if office is None:
            return None
        body = render({**office, "slots": self.slots(office_id, dates, office)})
        if trusted:
            with self._lock:
                self._documents[office_id] = (stamp, body)
        return body

    def held_document(self, office_id: str, window: Callable[[dict], Sequence[str]]) -> bytes | None:
        """The body `office_document` would answer for the office's `window(office)`, if it is
        held and current; else None (nothing is loaded or rendered here)."""
        offices = self._offices if self.trusted else None
        held = self._documents.get(office_id)
        office = offices.get(office_id) if offices is not None and held is not None else None
        if office is None or held is None:
            return None
        stamp = (self._epoch, self._revisions.get(office_id, 0), tuple(window(office)))
        return held[1] if held[0] == stamp else None

    def _changed(self, office_id: str) -> None:
        """Under the lock: `office_id`'s rendered body is out of date."""
        self._revisions[office_id] = self._revisions.get(office_id, 0) + 1

    def on_office_event(self, event: dict) -> None:
        office, version = event.get("after"), event.get("version", 0)
        if not office:
            return
        with self._lock:
            if self._offices is not None:
                _keep_newer(self._offices, self._versions, office, version)
                self._changed(office["id"])
            elif self.trusted:
                self._early.append((office, version))

    # ------------------------------------------------------------------ availability

    def slots(self, office_id: str, dates: Sequence[str], office: dict | None = None) -> list[dict]:
        """The days' counters and effective capacity (`office`: the office, when the caller has it)."""
        known = self._counts if self.trusted else {}
        overrides = self._overrides if self.trusted else {}
        missing = [d for d in dates if (office_id, d) not in known or (office_id, d) not in overrides]
        if missing:
            loaded = self._load_slots(office_id, missing)
            for slot in loaded:
                self._update(office_id, slot["date"], slot["booked"], slot["booked_parking"], slot["version"])
                self._update_override(office_id, slot["date"], slot.get("override"), slot["version"])
            fresh = {s["date"]: (s["booked"], s["booked_parking"], s["version"]) for s in loaded}
            fresh_overrides = {s["date"]: (s.get("override"), s["version"]) for s in loaded}
        else:
            fresh, fresh_overrides = {}, {}
        office = office or self.office(office_id) or {"quota": 0, "parking_quota": 0}
        result = []
        for d in dates:
            booked, parking, _ = known.get((office_id, d)) or fresh[d]
            override = (overrides.get((office_id, d)) or fresh_overrides[d])[0] or {}
            result.append({"date": d, "booked": booked, "booked_parking": parking,
                           **effective_day(office, override), "draw_at": draw_at(office, d)})
        return result

    def on_day_event(self, event: dict) -> None:
        """booking's day_changed: the day's override (None: removed) and counters."""
        a = event["availability"]
        self._update(a["office"], a["date"], a["booked"], a["booked_parking"], a["version"])
        self._update_override(a["office"], a["date"], event.get("override"), a["version"])

    def _update_override(self, office: str, day: str, override: dict | None, version: int) -> None:
        with self._lock:
            current = self._overrides.get((office, day))
            if self.trusted and (current is None or version > current[1]):
                self._overrides[(office, day)] = (override, version)
                self._changed(office)

    def on_booking_event(self, event: dict) -> None:
        a = event.get("availability")
        if a:
            self._update(a["office"], a["date"], a["booked"], a["booked_parking"], a["version"])

    def _update(self, office: str, day: str, booked: int, parking: int, version: int) -> None:
        with self._lock:
            current = self._counts.get((office, day))
            if self.trusted and (current is None or version > current[2]):
                self._counts[(office, day)] = (booked, parking, version)
                self._changed(office)

    def forget(self, office: str, day: str) -> None:
        """After a change made through this replica: the next read asks booking, so the caller
        sees their own change even before its event arrives (read-your-writes)."""
        with self._lock:
            self._counts.pop((office, day), None)
            self._overrides.pop((office, day), None)
            self._changed(office)

    def clear_counts(self) -> None:
        """After a change of many office-days through this replica (a range cancel): the next reads
        ask booking (read-your-writes), the offices stay."""
        with self._lock:
            self._counts.clear()
            self._overrides.clear()
            self._epoch += 1
            self._documents.clear()

    def clear(self) -> None:
        with self._lock:
            self._offices, self._versions, self._early = None, {}, []
            self._counts.clear()
            self._overrides.clear()
            self._epoch += 1
            self._documents.clear()


def _keep_newer(offices: dict[str, dict], versions: dict[str, int], office: dict, version: int) -> None:
    """Hold `office` (SPEC §9's fields) unless the copy held is newer (a higher `version`: events
    delivered late, or a list loaded before a change, come in any order)."""
    if office["id"] not in offices or version >= versions[office["id"]]:
        offices[office["id"]] = Office.model_validate(office).model_dump()
        versions[office["id"]] = version


def effective_day(office: dict, override: dict) -> dict:
    """A day's effective capacity (SPEC §15): the override's quotas where it sets them, else the
    office's; closed and note from the override."""
    quota, parking = override.get("quota"), override.get("parking_quota")
    return {"quota": office["quota"] if quota is None else quota,
            "parking_quota": office["parking_quota"] if parking is None else parking,
            "closed": bool(override.get("closed")), "note": override.get("note")}


def draw_at(office: dict, day: str) -> str | None:
    """SPEC §13: when a ballot office's day is drawn (ISO, office offset); None when first-come."""
    if office.get("allocation") != "ballot":
        return None
    moment = booking_rules.draw_at(booking_rules.Office(
        office["id"], office["name"], office["quota"], office["parking_quota"], office["timezone"],
        allocation="ballot", ballot_draw_days_before=office.get("ballot_draw_days_before") or 7,
        ballot_draw_time=office.get("ballot_draw_time") or "12:00"), date.fromisoformat(day))
    return moment.isoformat() if moment else None
