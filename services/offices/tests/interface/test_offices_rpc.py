"""Offices' RPCs and seeding against the running service and database."""
import psycopg
import pytest

from services.offices.exceptions import OfficeNotFound

FIRST_COME = {"allocation": "first_come", "ballot_draw_days_before": 7, "ballot_draw_time": "12:00"}  # SPEC §13


def test_seeded_from_config_in_order(stack):
    with stack.rpc() as rpc:
        offices = rpc.offices.list_offices()
    assert offices == [
        {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 60, "timezone": "Europe/London", "retired": False, "check_in_deadline": None, **FIRST_COME},
        {"id": "beta", "name": "Office Beta", "quota": 200, "parking_quota": 150, "timezone": "Europe/London", "retired": False, "check_in_deadline": None, **FIRST_COME},
    ]


def test_get_office_and_unknown(stack):
    with stack.rpc() as rpc:
        assert rpc.offices.get_office("beta")["quota"] == 200
        with pytest.raises(OfficeNotFound):
            rpc.offices.get_office("nope")


def test_seeding_happens_once(stack):
    """A second start with the table filled leaves it alone (and says so in the log)."""
    from obcommon.config import load_config
    from obcommon.service import Db
    from services.offices.models import Base
    from services.offices.repository import seed_offices

    db = Db.standalone(stack.database_url, Base, "offices")
    try:
        assert seed_offices(db, load_config(stack.config_path)) == 0
    finally:
        db.dispose()
    with psycopg.connect(stack.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM offices.offices").fetchone()[0] == 2


def test_create_and_update_errors_are_typed(stack):
    """Without creating anything (the shared stack's office list is asserted elsewhere)."""
    from services.offices.exceptions import InvalidOffice, OfficeExists

    with stack.rpc() as rpc:
        with pytest.raises(OfficeExists):
            rpc.offices.create_office({"id": "alpha", "name": "Again", "quota": 1}, "admin@my-company.example")
        with pytest.raises(InvalidOffice):
            rpc.offices.create_office({"id": "zz", "name": "Z", "quota": 1, "timezone": "Nowhere"}, "admin@x.example")
        with pytest.raises(InvalidOffice):
            rpc.offices.update_office("alpha", {"quota": None}, "admin@my-company.example")
        with pytest.raises(OfficeNotFound):
            rpc.offices.update_office("nowhere", {"quota": 1}, "admin@my-company.example")
        unchanged = rpc.offices.update_office("alpha", {"name": "Office Alpha"}, "admin@my-company.example")
        assert unchanged == rpc.offices.get_office("alpha")
        # every change is a new revision (read models keep the newest copy by it); no change, none
        first = rpc.offices.get_office("alpha", with_version=True)["version"]
        rpc.offices.update_office("alpha", {"name": "Alpha"}, "admin@my-company.example")
        assert rpc.offices.get_office("alpha", with_version=True)["version"] == first + 1
        rpc.offices.update_office("alpha", {"name": "Office Alpha"}, "admin@my-company.example")
        rpc.offices.update_office("alpha", {"quota": 100}, "admin@my-company.example")  # (unchanged)
        listed = rpc.offices.list_offices(with_version=True)
        assert [(o["id"], o["version"]) for o in listed] == [("alpha", first + 2), ("beta", 1)]
        assert [o.pop("version") for o in listed] and listed == rpc.offices.list_offices()  # else SPEC §9 only
        assert [o["id"] for o in rpc.offices.list_offices()] == ["alpha", "beta"]
