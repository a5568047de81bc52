"""The gateway's availability read model: versions order updates; untrusted means ask."""
from gateway.readmodel import Availability

OFFICE = {"id": "a", "name": "A", "quota": 5, "parking_quota": 1, "timezone": "Europe/London", "retired": False}


def make(slots=None):
    calls = {"offices": 0, "slots": 0}

    def load_offices():
        calls["offices"] += 1
        return [dict(OFFICE)]

    def load_slots(office, dates):
        calls["slots"] += 1
        return [{"date": d, "booked": 1, "booked_parking": 0, "version": 3} for d in dates]

    model = Availability(load_offices, load_slots)
    model.trusted = True
    return model, calls


def event(booked, version, day="2030-01-01"):
    return {"availability": {"office": "a", "date": day, "booked": booked, "booked_parking": 0, "version": version}}


def test_loads_once_then_follows_events():
    model, calls = make()
    assert model.slots("a", ["2030-01-01"]) == [{"date": "2030-01-01", "booked": 1, "booked_parking": 0, "quota": 5,
                                                 "parking_quota": 1, "closed": False, "note": None,
                                                 "draw_at": None}]
    model.on_booking_event(event(2, 4))
    assert model.slots("a", ["2030-01-01"])[0]["booked"] == 2
    assert calls["slots"] == 1
    model.offices()
    model.offices()
    assert calls["offices"] == 1


def test_an_older_version_never_overwrites_a_newer_one():
    model, _ = make()
    model.slots("a", ["2030-01-01"])
    model.on_booking_event(event(4, 6))
    model.on_booking_event(event(3, 5))  # late delivery
    assert model.slots("a", ["2030-01-01"])[0]["booked"] == 4


def test_a_days_capacity_is_its_override_else_the_offices_current_one():
    """SPEC §15: slots show effective values; an office's quota change shows at once on days
    without an override of their own."""
    model, _ = make()
    model.offices()
    model.slots("a", ["2030-01-01", "2030-01-02"])
    model.on_day_event({**event(1, 4), "override": {"quota": 2, "parking_quota": None, "closed": False, "note": "n"}})
    model.on_office_event({"after": {**OFFICE, "quota": 9, "parking_quota": 3}})
    first, second = model.slots("a", ["2030-01-01", "2030-01-02"])
    assert (first["quota"], first["parking_quota"], first["note"]) == (2, 3, "n")
    assert (second["quota"], second["parking_quota"], second["note"]) == (9, 3, None)
    model.forget("a", "2030-01-01")  # after a change through this replica: asked again
    assert model.slots("a", ["2030-01-01"])[0]["quota"] == 9  # the loader's day has no override


def test_office_events_update_the_list():
    model, _ = make()
    model.offices()
    model.on_office_event({"after": {**OFFICE, "name": "Renamed", "quota": 9}})
    model.on_office_event({"after": {**OFFICE, "id": "b", "name": "B"}})
    assert [(o["id"], o["name"]) for o in model.offices()] == [("a", "Renamed"), ("b", "B")]


def test_untrusted_model_asks_every_time():
    model, calls = make()
    model.trusted = False
    model.slots("a", ["2030-01-01"], OFFICE)  # as GET /api/offices/{id} asks: with the office it read
    model.slots("a", ["2030-01-01"], OFFICE)
    model.offices()
    model.offices()
    assert calls == {"offices": 2, "slots": 2}


def test_event_hub_dedupes_and_resumes_after_last_event_id():
    from gateway.live import EventHub

    hub = EventHub(size=3)
    first = {"event_id": "e1", "at": "2030-01-01T00:00:01Z", **event(1, 1)}
    hub.on_booking_event(first)
    hub.on_booking_event(first)  # redelivered
    q, backlog = hub.subscribe(None)
    assert backlog == []
    for i in (2, 3, 4):
        hub.on_booking_event({"event_id": f"e{i}", "at": f"2030-01-01T00:00:0{i}Z", **event(i, i)})
    live = [q.get_nowait()[1]["booked"] for _ in range(3)]
    assert live == [2, 3, 4] and q.empty()
    _, missed = hub.subscribe("2030-01-01T00:00:02Z|e2")
    assert [e[1]["booked"] for e in missed] == [3, 4]
    assert len(hub.history) == 3 and len(hub.seen) == 3  # bounded


def test_an_older_copy_of_an_office_never_replaces_a_newer_one():
    """Offices' events can come late (two replicas) or race the first load of the list: the copy
    with the higher `version` stays, and the API's offices carry SPEC §9's fields only."""
    model, _ = make()
    model.on_office_event({"after": {**OFFICE, "retired": True}, "version": 3})  # while nothing is loaded yet
    assert model.office("a")["retired"] is True  # the list loaded (version 0) is older than the event
    model.on_office_event({"after": OFFICE, "version": 2})  # late
    assert model.office("a")["retired"] is True
    model.on_office_event({"after": {**OFFICE, "name": "New"}, "version": 4})
    assert model.office("a") == {**OFFICE, "name": "New", "check_in_deadline": None, "allocation": "first_come",
                                 "ballot_draw_days_before": 7, "ballot_draw_time": "12:00"}


def test_the_office_document_is_rendered_again_after_every_change_and_only_then():
    """GET /api/offices/{id}'s body is kept between reads (issue 16), never past a change of
    what it shows: a booking, a day override, the office, a change through this replica, a
    reconnect, or another window of dates."""
    import json

    model, calls = make()
    renders = []

    def render(document):
        renders.append(document)
        return json.dumps(document).encode()

    def booked(dates=("2030-01-01",)):
        return [s["booked"] for s in json.loads(model.office_document("a", list(dates), render))["slots"]]

    assert booked() == [1] and booked() == [1] and len(renders) == 2  # the first load's body is re-rendered once
    assert booked() == [1] and len(renders) == 2
    model.on_booking_event(event(2, 4))
    assert booked() == [2] and len(renders) == 3
    model.on_booking_event(event(1, 3))  # late: changes nothing, renders nothing
    assert booked() == [2] and len(renders) == 3
    model.on_booking_event(event(5, 9, day="2030-01-02"))  # another day of the office
    assert booked() == [2] and len(renders) == 4
    model.on_day_event({**event(2, 10), "override": {"quota": 1, "parking_quota": None, "closed": True, "note": "x"}})
    assert json.loads(model.office_document("a", ["2030-01-01"], render))["slots"][0]["closed"] is True
    model.on_office_event({"after": {**OFFICE, "name": "Renamed"}, "version": 2})
    assert json.loads(model.office_document("a", ["2030-01-01"], render))["name"] == "Renamed"
    count = len(renders)
    model.forget("a", "2030-01-01")
    assert booked() == [1] and calls["slots"] == 2 and len(renders) > count  # asked booking again
    assert booked(["2030-01-01", "2030-01-02"]) == [1, 5]  # another window: rendered for it
    count = len(renders)
    model.clear()
    model.trusted = True
    assert booked() == [1] and len(renders) > count
    assert model.office_document("nope", ["2030-01-01"], render) is None


def test_an_untrusted_model_renders_every_time():
    model, calls = make()
    model.trusted = False
    renders = []
    for _ in range(2):
        model.office_document("a", ["2030-01-01"], lambda d: renders.append(d) or b"{}")
    assert len(renders) == 2 and calls["slots"] == 2
