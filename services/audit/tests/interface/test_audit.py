"""The audit service against the real broker and database (SPEC §1, §4, §8, §9 GET /api/audit)."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from obcommon.messaging import wait_for
from services.audit.exceptions import InvalidCursor, InvalidFilter
from services.identity.contract import LOGIN_CODE_ISSUED, USER_CHANGED, USER_SIGNED_IN
from services.offices.contract import OFFICE_UPDATED


def email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@my-company.example"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def wait_records(rpc, count: int, **filters) -> list[dict]:
    def enough():
        records = rpc.list_records(limit=200, **filters)["records"]
        return records if len(records) >= count else None

    return wait_for(enough, timeout=15, interval=0.1, what=f"{count} audit records for {filters}")


def handled(audit, handler: str) -> int:
    """How many events `handler` has finished with (any outcome), from audit's /metrics: a marker
    that a delivery was handled, including one that stored nothing."""
    text = requests.get(f"http://127.0.0.1:{audit.process.http_port}/metrics", timeout=5).text
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("ob_service_calls_total{") and f'entrypoint="{handler}"' in line))


def test_every_audited_event_type_is_recorded(rpc, audit):
    records = rpc.list_records(actor=audit.probe_actor, limit=200)["records"]
    assert {r["entity_id"] for r in records} == {f"{s.service}.{s.name}" for s in audit.specs}
    assert {"identity.user_signed_in", "offices.office_updated"} <= {r["entity_id"] for r in records}


def test_a_sign_in_is_recorded_with_who_what_when_before_and_after(rpc, audit):
    who = email()
    sent = audit.dispatch(USER_SIGNED_IN, USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who,
                                                         after={"session_expires_at": "2030-01-01T12:00:00+00:00"}))
    (record,) = wait_records(rpc, 1, actor=who)
    assert set(record) == {"id", "at", "actor", "action", "entity", "entity_id", "office", "before", "after"}
    assert isinstance(record["id"], str)
    assert record["at"].endswith("Z")
    assert datetime.fromisoformat(record["at"]) == datetime.fromisoformat(sent["at"])
    assert record["actor"] == who and record["action"] == "user_signed_in"
    assert record["entity"] == "user" and record["entity_id"] == who and record["office"] is None
    assert record["before"] is None and record["after"] == {"session_expires_at": "2030-01-01T12:00:00+00:00"}


def test_a_login_code_is_never_stored(rpc, audit, db):
    who, code = email(), "987123"
    sent = audit.dispatch(LOGIN_CODE_ISSUED, LOGIN_CODE_ISSUED.build(
        actor=who, entity="user", entity_id=who, code=code, expires_at="2030-01-01T00:10:00+00:00", ttl_minutes=10))
    (record,) = wait_records(rpc, 1, actor=who)
    assert record["action"] == "login_code_issued"
    assert code not in json.dumps(record)
    raw = db.execute("SELECT row_to_json(r)::text FROM audit.records r WHERE event_id = %s",
                     (sent["event_id"],)).fetchone()[0]
    assert who in raw and code not in raw and "ttl_minutes" not in raw


def test_a_redelivered_event_is_stored_once(rpc, audit, db):
    who = email()
    payload = USER_CHANGED.build(actor="admin@my-company.example", entity="user", entity_id=who, email=who,
                                 before={"quota": 1}, after={"quota": 2})
    before = handled(audit, "on_identity__user_changed")
    audit.dispatch(USER_CHANGED, payload)
    audit.dispatch(USER_CHANGED, payload)
    marker = audit.dispatch(USER_CHANGED, USER_CHANGED.build(actor="admin@my-company.example", entity="user",
                                                       entity_id=who, email=who, after={"marker": True}))
    wait_for(lambda: db.execute("SELECT 1 FROM audit.records WHERE event_id = %s",
                                (marker["event_id"],)).fetchone(), timeout=15, what="marker")
    # the three deliveries have been handled (the second copy stored nothing)
    wait_for(lambda: handled(audit, "on_identity__user_changed") >= before + 3, timeout=15, what="3 deliveries")
    count = db.execute("SELECT count(*) FROM audit.records WHERE event_id = %s", (payload["event_id"],)).fetchone()[0]
    assert count == 1
    records = [r for r in rpc.list_records(limit=200)["records"] if r["entity_id"] == who]
    assert len(records) == 2


def test_filters_by_actor_office_and_dates(rpc, audit):
    who, other = email(), email()
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    for actor, office, at in [(who, "alpha", now), (who, "beta", now), (who, "alpha", yesterday),
                              (who, None, yesterday), (other, "alpha", now)]:
        spec = OFFICE_UPDATED if office else USER_CHANGED
        extra = {} if office else {"email": actor}
        audit.dispatch(spec, spec.build(actor=actor, entity="office" if office else "user",
                                  entity_id=office or actor, office=office, at=iso(at),
                                  before={"quota": 1}, after={"quota": 2}, **extra))
    wait_records(rpc, 4, actor=who)
    wait_records(rpc, 1, actor=other)

    assert len(rpc.list_records(actor=who)["records"]) == 4
    assert len(rpc.list_records(actor=f"  {who.upper()} ")["records"]) == 4  # emails are normalised
    alpha = rpc.list_records(actor=who, office="alpha")["records"]
    assert [r["office"] for r in alpha] == ["alpha", "alpha"]
    # An Office Admin of beta sees only beta's records, not user records without an office.
    assert [r["office"] for r in rpc.list_records(actor=who, offices=["beta"])["records"]] == ["beta"]
    assert rpc.list_records(actor=who, offices=[])["records"] == []
    assert rpc.list_records(actor=who, offices=["beta"], office="alpha")["records"] == []
    day = yesterday.date().isoformat()
    on_day = rpc.list_records(actor=who, date_from=day, date_to=day)["records"]
    assert len(on_day) == 2 and all(r["at"].startswith(day) for r in on_day)
    assert len(rpc.list_records(actor=who, date_from=now.date().isoformat())["records"]) == 2
    with pytest.raises(InvalidFilter):
        rpc.list_records(date_from="yesterday")


def test_newest_first_and_cursor_pagination(rpc, audit):
    who = email()
    base = datetime.now(UTC) - timedelta(hours=1)
    ats = [base + timedelta(minutes=i) for i in range(6)] + [base + timedelta(minutes=5)]  # a tie
    sent = [audit.dispatch(USER_CHANGED, USER_CHANGED.build(actor=who, entity="user", entity_id=who, email=who,
                                                      at=iso(at), after={"n": n}))
            for n, at in enumerate(ats)]
    wait_records(rpc, 7, actor=who)

    pages, cursor = [], None
    while True:
        page = rpc.list_records(actor=who, limit=3, cursor=cursor)
        pages.append(page["records"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    records = [r for p in pages for r in p]
    assert sorted(r["after"]["n"] for r in records) == list(range(7))
    keys = [(datetime.fromisoformat(r["at"]), int(r["id"])) for r in records]
    assert keys == sorted(keys, reverse=True)
    assert len(sent) == 7
    assert len(rpc.list_records(actor=who, limit=0)["records"]) == 1  # clamped to 1..200
    with pytest.raises(InvalidCursor):
        rpc.list_records(actor=who, cursor="not-a-cursor")


def test_pseudonymise_actor(rpc, audit):
    who, pseudonym = email(), f"erased-{uuid.uuid4().hex[:10]}"
    audit.dispatch(USER_SIGNED_IN, USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who))
    audit.dispatch(USER_CHANGED, USER_CHANGED.build(actor="admin@my-company.example", entity="user", entity_id=who,
                                              email=who, before={"email": who, "quota": 1},
                                              after={"email": who, "quota": 2, "note": f"x{who}"}))
    wait_records(rpc, 1, actor=who)
    wait_for(lambda: [r for r in rpc.list_records(actor="admin@my-company.example", limit=200)["records"]
                      if r["entity_id"] == who], timeout=15, what="admin record")

    assert rpc.pseudonymise_actor(who.upper(), pseudonym) == {"records": 2}

    assert rpc.list_records(actor=who)["records"] == []
    (own,) = rpc.list_records(actor=pseudonym)["records"]
    assert own["entity_id"] == pseudonym
    (changed,) = [r for r in rpc.list_records(actor="admin@my-company.example", limit=200)["records"]
                  if r["entity_id"] == pseudonym]
    assert changed["before"] == {"email": pseudonym, "quota": 1}
    assert changed["after"]["email"] == pseudonym and changed["after"]["quota"] == 2
    assert changed["after"]["note"] == f"x{who}"  # only whole values are replaced


def test_retention_purges_old_records(rpc, audit):
    who = email()
    now = datetime.now(UTC)
    audit.dispatch(USER_SIGNED_IN, USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who, at=iso(now - timedelta(days=40))))
    audit.dispatch(USER_SIGNED_IN, USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who, at=iso(now)))
    wait_records(rpc, 2, actor=who)

    assert rpc.purge_older_than(30)["records"] >= 1
    (kept,) = rpc.list_records(actor=who)["records"]
    assert datetime.fromisoformat(kept["at"]) > now - timedelta(days=1)
    with pytest.raises(InvalidFilter):
        rpc.purge_older_than(0)


def test_events_sent_while_audit_is_down_are_recorded_once_after_it_restarts(rpc, audit):
    who = email()
    audit.stop()
    try:
        first = USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who)
        audit.dispatch(USER_SIGNED_IN, first)
        audit.dispatch(USER_SIGNED_IN, first)  # the outbox may publish an event twice
        audit.dispatch(OFFICE_UPDATED, OFFICE_UPDATED.build(actor=who, entity="office", entity_id="alpha",
                                                            office="alpha", before={"quota": 1}, after={"quota": 2}))
    finally:
        audit.start()
    wait_records(rpc, 2, actor=who)
    # both copies of the first have been handled by the new process (the second stored nothing)
    wait_for(lambda: handled(audit, "on_identity__user_signed_in") >= 2, timeout=15, what="both copies")
    records = rpc.list_records(actor=who)["records"]
    assert sorted(r["action"] for r in records) == ["office_updated", "user_signed_in"]


def test_a_burst_of_events_is_stored_in_few_transactions_and_a_bad_one_alone_is_dropped(rpc, audit, db):
    """Events handled at the same time are stored together (obcommon.batching.GroupCommit: one
    transaction for the burst, seen in the rows' `xmin`); a value PostgreSQL refuses (a NUL in
    JSON text) fails only its own event, the others of its batch are stored."""
    who = email()
    audit.stop()
    try:  # queued while audit is down, so they arrive as a burst
        sent = [audit.dispatch(USER_CHANGED, USER_CHANGED.build(actor=who, entity="user", entity_id=who, email=who,
                                                                after={"n": i})) for i in range(40)]
        bad = audit.dispatch(USER_CHANGED, USER_CHANGED.build(actor=who, entity="user", entity_id=who, email=who,
                                                              after={"note": "nul \u0000 here"}))
    finally:
        audit.start()
    wait_records(rpc, 40, actor=who)
    wait_for(lambda: handled(audit, "on_identity__user_changed") >= 41, timeout=15, what="41 deliveries")
    ids = [p["event_id"] for p in sent]
    stored, transactions = db.execute("SELECT count(*), count(DISTINCT xmin::text) FROM audit.records"
                                      " WHERE event_id = ANY(%s)", (ids,)).fetchone()
    assert stored == 40 and transactions <= 20  # (one per event before: 40)
    assert db.execute("SELECT count(*) FROM audit.records WHERE event_id = %s", (bad["event_id"],)).fetchone() == (0,)


# ------------------------------------------------------------------------------ erasure


def test_user_erased_pseudonymises_the_trail_and_events_still_on_their_way(rpc, audit, db):
    from obcommon import erasure
    from obcommon.config import Env
    from services.booking.contract import BOOKING_CREATED
    from services.identity.contract import USER_ERASED

    who, admin = email(), "admin@my-company.example"
    pseudonym = erasure.pseudonym(Env.from_environ(audit.env).derive_key(erasure.KEY_PURPOSE), who)
    now = datetime.now(UTC)
    audit.dispatch(USER_SIGNED_IN, USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who,
                                                         at=iso(now - timedelta(minutes=5))))
    wait_records(rpc, 1, actor=who)
    erased = audit.dispatch(USER_ERASED, USER_ERASED.build(actor=admin, entity="user", entity_id=pseudonym,
                                                           before={"quota": 1}, email=who, pseudonym=pseudonym,
                                                           at=iso(now)))
    wait_for(lambda: rpc.list_records(actor=pseudonym)["records"], timeout=15, what="pseudonymised sign-in")
    assert rpc.list_records(actor=who)["records"] == []
    raw = db.execute("SELECT row_to_json(r)::text FROM audit.records r WHERE event_id = %s",
                     (erased["event_id"],)).fetchone()[0]
    assert who not in raw and pseudonym in raw  # the erasure itself names the user by pseudonym only
    assert db.execute("SELECT count(*) FROM audit.erasures WHERE pseudonym = %s", (pseudonym,)).fetchone()[0] == 1

    # published before the erasure, delivered after it: stored under the pseudonym
    booking = {"id": uuid.uuid4().hex, "user": who, "office": {"id": "alpha", "name": "A"}}
    late = audit.dispatch(BOOKING_CREATED, {**BOOKING_CREATED.build(
        actor=who, entity="booking", entity_id=booking["id"], office="alpha", after=booking,
        availability={"office": "alpha", "date": "2030-01-01", "booked": 1, "booked_parking": 0, "version": 1},
        office_timezone="Europe/London", at=iso(now - timedelta(seconds=1)))})
    # a sign-in well after the erasure (the address may sign in again): a new user, kept as is
    audit.dispatch(USER_SIGNED_IN, USER_SIGNED_IN.build(actor=who, entity="user", entity_id=who,
                                                         at=iso(now + timedelta(minutes=1))))
    wait_records(rpc, 1, actor=who)
    (stored,) = wait_for(lambda: [r for r in rpc.list_records(office="alpha", limit=200)["records"]
                                  if r["entity_id"] == booking["id"]], timeout=15, what="late record")
    assert stored["actor"] == pseudonym and stored["after"]["user"] == pseudonym
    assert late["event_id"]


def test_a_user_erased_event_without_the_private_fields_is_just_recorded(rpc, audit):
    from services.identity.contract import USER_ERASED

    probe = f"erased-{uuid.uuid4().hex[:8]}"
    audit.dispatch(USER_ERASED, {"event_id": uuid.uuid4().hex, "type": "user_erased", "service": "identity",
                                 "at": iso(datetime.now(UTC)), "actor": probe, "entity": "user",
                                 "entity_id": probe})
    (record,) = wait_records(rpc, 1, actor=probe)
    assert record["action"] == "user_erased"
