"""What must hold after every scenario, read from the databases and the SMTP peer.

`State.read()` takes one snapshot; `problems()` lists every broken rule in words (an empty list
means the scenario passed), so a failing scenario names everything that went wrong at once.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import psycopg

from obcommon.procs import SERVICES
from tests.support.admin import counter_drift

from .clients import Request

_BOOKING_ID = re.compile(r"booking ([0-9a-f]{32})")


def confirmation_mails(smtp, users: set[str]) -> tuple[Counter, dict[str, set[str]]]:
    """Booking id -> confirmation mails the SMTP peer received for it (from the .ics attachment),
    and booking id -> the Message-IDs those mails carried."""
    found: Counter = Counter()
    message_ids: dict[str, set[str]] = {}
    with smtp.lock:
        messages = list(smtp.messages)
    for rcpts, msg in messages:
        if not users.intersection(rcpts) or not str(msg["Subject"]).startswith("Booking confirmed"):
            continue
        for part in msg.iter_attachments():
            if part.get_content_type() == "text/calendar":
                content = part.get_content()
                text = content.decode() if isinstance(content, bytes) else content
                text = text.replace("\r\n ", "").replace("\n ", "")  # unfold iCalendar lines
                for bid in set(_BOOKING_ID.findall(text)):
                    found[bid] += 1
                    message_ids.setdefault(bid, set()).add(str(msg["Message-ID"]))
    return found, message_ids


@dataclass
class State:
    bookings: dict  # id -> (user, office, date iso, parking, status)
    audit: Counter  # (booking id, action) -> records
    audit_foreign: list  # booking records by our users about bookings that do not exist
    mails: Counter  # booking id -> confirmation mails received
    mail_ids: dict  # booking id -> the Message-IDs of those mails
    unsent_mail: int
    outboxes: dict  # schema -> rows
    drift: list
    over_quota: list

    @classmethod
    def read(cls, database_url: str, smtp, users: set[str]) -> State:
        us = sorted(users)
        with psycopg.connect(database_url) as conn:
            bookings = {row[0]: (row[1], row[2], row[3].isoformat(), row[4], row[5]) for row in conn.execute(
                'SELECT id, "user", office, date, parking, status FROM booking.bookings WHERE "user" = ANY(%s)',
                (us,))}
            audit = Counter({(eid, action): n for eid, action, n in conn.execute(
                "SELECT entity_id, action, count(*) FROM audit.records WHERE entity = 'booking' AND actor = ANY(%s)"
                " GROUP BY 1, 2", (us,))})
            unsent = conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL AND to_address = ANY(%s)",
                                  (us,)).fetchone()[0]
            outboxes = {s: conn.execute(f"SELECT count(*) FROM {s}.outbox").fetchone()[0] for s in SERVICES}
            over = conn.execute("""
                SELECT c.office, c.date, c.booked, o.quota, c.booked_parking, o.parking_quota,
                       (SELECT count(*) FROM booking.bookings b
                        WHERE b.office = c.office AND b.date = c.date AND b.status = 'active') AS recount
                FROM booking.day_counts c JOIN booking.offices o ON o.id = c.office
                WHERE c.booked > o.quota OR c.booked_parking > o.parking_quota
                   OR (SELECT count(*) FROM booking.bookings b
                       WHERE b.office = c.office AND b.date = c.date AND b.status = 'active') > o.quota
            """).fetchall()
        foreign = sorted({eid for eid, _ in audit if eid not in bookings})
        return cls(bookings, audit, foreign, *confirmation_mails(smtp, users), unsent, outboxes,
                   counter_drift(database_url), over)

    def drained(self) -> bool:
        """Every event has reached its consumers: outboxes empty, mail sent, audit complete."""
        return (not any(self.outboxes.values()) and self.unsent_mail == 0
                and all(self.mails[b] >= 1 and self.audit[(b, "booking_created")] >= 1
                        and (status != "cancelled" or self.audit[(b, "booking_cancelled")] >= 1)
                        for b, (*_, status) in self.bookings.items()))


def problems(requests: list[Request], state: State, same_message_id_duplicates: bool = False) -> list[str]:
    """`same_message_id_duplicates`: a second copy of a mail is allowed when it carries the first
    one's Message-ID (notify killed between the SMTP server's acceptance and the commit of
    `sent_at`: the one window SMTP leaves, docs/reliability.md); any other duplicate is a problem."""
    out: list[str] = []
    created: dict[str, Request] = {}
    for r in requests:
        ids = {a.booking_id for a in r.attempts if a.status == 201}
        if len(ids) > 1:
            out.append(f"one Idempotency-Key answered 201 with different bookings {sorted(ids)}")
        if r.kind == "book" and r.final == 201:
            created[r.booking_id] = r
    # every 201 booking exists, as requested
    for bid, r in created.items():
        row = state.bookings.get(bid)
        want = (r.body["user"], r.body["office"], r.body["date"], r.body["parking"])
        if row is None:
            out.append(f"booking {bid} answered 201 but is not stored")
        elif row[:4] != want:
            out.append(f"booking {bid} stored as {row[:4]}, requested {want}")
    # no booking without a 201
    for bid in sorted(set(state.bookings) - set(created)):
        out.append(f"booking {bid} {state.bookings[bid][:3]} is stored but no client got a 201 for it")
    # cancellations: the answer matches the stored status
    cancelled = {r.booking_id for r in requests
                 if r.kind == "cancel" and (r.final == 204 or (r.final == 404 and r.in_doubt_before_final))}
    for r in requests:
        if r.kind == "cancel" and r.final == 404 and not r.in_doubt_before_final:
            out.append(f"cancel of active booking {r.booking_id} answered 404 at once "
                       f"(statuses {[a.status for a in r.attempts]})")
    for bid in created:
        status = state.bookings.get(bid, (None,) * 5)[4]
        want = "cancelled" if bid in cancelled else "active"
        undecided = any(r.kind == "cancel" and r.booking_id == bid and r.final is None for r in requests)
        if status is not None and status != want and not undecided:
            out.append(f"booking {bid} is {status}, clients were told {want}")
    # capacity
    if state.drift:
        out.append(f"counters differ from a recount of active bookings: {state.drift}")
    if state.over_quota:
        out.append(f"office-days above quota: {state.over_quota}")
    # one audit record per change, one confirmation per booking
    for bid, (*_, status) in state.bookings.items():
        for action, want in (("booking_created", 1), ("booking_cancelled", 1 if status == "cancelled" else 0)):
            if state.audit[(bid, action)] != want:
                out.append(f"booking {bid}: {state.audit[(bid, action)]} audit records {action}, want {want}")
        if state.mails[bid] != 1:
            ids = state.mail_ids.get(bid, set())
            if not (same_message_id_duplicates and state.mails[bid] > 1 and len(ids) == 1):
                out.append(f"booking {bid}: {state.mails[bid]} confirmation mails (Message-IDs {sorted(ids)}), "
                           f"want 1")
    if state.audit_foreign:
        out.append(f"audit records for bookings that do not exist: {state.audit_foreign}")
    if state.unsent_mail:
        out.append(f"{state.unsent_mail} mails still unsent")
    if any(state.outboxes.values()):
        out.append(f"outboxes not empty: {state.outboxes}")
    return out
