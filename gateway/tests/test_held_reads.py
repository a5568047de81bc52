"""GET /api/offices/{id} answered from what the gateway process holds (gateway/api.py
`answer_held_reads`, issue 16): the same answer as through Flask, and Flask whenever anything
it needs is not held. The app is the real one; identity's and the services' answers come from
the loaders given here instead of RPC (no broker needed)."""
import pytest

from gateway.app import REQUESTS, create_app
from gateway.auth import session_id_for
from obcommon import tracing
from obcommon.config import AppConfig, Env

OFFICE = {"id": "o1", "name": "One", "quota": 5, "parking_quota": 1, "timezone": "Europe/London",
          "retired": False}
USER = {"email": "a@my-company.example", "permissions": {"can_view_admin": False}}
TOKEN = "t" * 43


def make_app():
    env = Env.from_environ({"SECRET_KEY": "k" * 32})
    app = create_app(AppConfig(), env, listen=False)
    state = app.extensions["ob"]
    calls = {"flask": 0, "sessions": 0, "slots": 0}

    def fetch_session(session_id):
        calls["sessions"] += 1
        if session_id != session_id_for(TOKEN):
            return None
        return {"email": USER["email"], "user": USER, "expires_at": "2099-01-01T00:00:00+00:00"}

    def load_slots(office_id, dates):
        calls["slots"] += 1
        return [{"date": d, "booked": 1, "booked_parking": 0, "version": 1} for d in dates]

    state.sessions._fetch = fetch_session
    state.availability._load_offices = lambda: [dict(OFFICE)]
    state.availability._load_slots = load_slots
    state.sessions.trusted = state.availability.trusted = True  # as while the event listener is connected

    @app.before_request
    def through_flask():
        calls["flask"] += 1

    return app, state, calls


def get(client, path="/api/offices/o1", token=TOKEN, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers, **kwargs)


def served() -> float:
    return REQUESTS.labels("GET", "/api/offices/<office_id>", "200")._value.get()


def test_a_held_read_is_flasks_answer_without_flask():
    app, state, calls = make_app()
    client = app.test_client()
    before = served()
    first = get(client)
    assert first.status_code == 200 and get(client).data == first.data
    assert calls["flask"] == 2  # the first load's body is rendered again once (test_readmodel.py)
    second = get(client)
    assert calls["flask"] == 2 and calls["sessions"] == 1 and calls["slots"] == 1  # nothing asked again
    assert second.status_code == 200 and second.data == first.data
    assert sorted(second.headers.items()) == sorted(first.headers.items())  # security headers, no-store, length
    assert second.headers["Cache-Control"] == "no-store" and second.headers["Content-Type"] == "application/json"
    assert first.get_json()["slots"][0]["booked"] == 1
    client.set_cookie("ob_session", TOKEN)  # the web app's session cookie is held the same way
    assert client.get("/api/offices/o1").data == first.data and calls["flask"] == 2
    assert served() == before + 4  # every answer counted, however it was made


def test_anything_not_held_goes_through_flask():
    app, state, calls = make_app()
    client = app.test_client()
    body = get(client).data
    get(client)
    count = calls["flask"]

    def through_flask(response, status):
        nonlocal count
        assert response.status_code == status and calls["flask"] == count + 1
        count += 1
        return response

    through_flask(get(client, token=None), 401)
    through_flask(get(client, token="unknown"), 401)
    through_flask(get(client, "/api/offices/nope"), 404)
    through_flask(get(client, "/api/offices/o1?x=1"), 200)
    through_flask(client.head("/api/offices/o1", headers={"Authorization": f"Bearer {TOKEN}"}), 200)
    # a booking elsewhere: the held body is out of date, Flask renders the new one, then it is held
    state.availability.on_booking_event({"availability": {
        "office": "o1", "date": get(client).get_json()["slots"][0]["date"], "booked": 4, "booked_parking": 0,
        "version": 2}})
    assert through_flask(get(client), 200).get_json()["slots"][0]["booked"] == 4
    assert get(client).get_json()["slots"][0]["booked"] == 4 and calls["flask"] == count
    # signed out (identity's event): the session is no longer held, identity says it is gone
    state.sessions.evict_session(session_id_for(TOKEN))
    fetch = state.sessions._fetch
    state.sessions._fetch = lambda session_id: None
    through_flask(get(client), 401)
    through_flask(get(client), 401)  # answered from the cache of unknown sessions, still by Flask
    state.sessions._fetch = fetch
    state.sessions._unknown.clear()
    # the event listener disconnected: nothing held is trusted
    state.sessions.trusted = state.availability.trusted = False
    assert through_flask(get(client), 200).data == body


def test_with_tracing_on_every_read_is_a_flask_request(monkeypatch):
    monkeypatch.setattr(tracing, "_enabled", True)
    app, state, calls = make_app()
    client = app.test_client()
    for _ in range(3):
        assert get(client).status_code == 200
    assert calls["flask"] == 3


@pytest.mark.parametrize("path", ["/api/offices/o1/x", "/api/offices/%C3%A9", "/api/offices/"])
def test_other_paths_under_offices_are_flasks(path):
    app, state, calls = make_app()
    client = app.test_client()
    get(client)
    response = get(client, path)
    assert response.status_code in (404, 405) and calls["flask"] == 2
