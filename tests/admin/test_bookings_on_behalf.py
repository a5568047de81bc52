"""Bookings on behalf within an Office Admin's scope (SPEC §1, §4)."""
from __future__ import annotations

import json
from datetime import timedelta

from ..support.admin import Api, day, expect, today, who
from .common import office_admin

# ------------------------------------------------------------------------------ bookings on behalf


def test_office_admin_books_lists_and_cancels_only_in_managed_offices(astack, admin):
    oa = office_admin(astack, admin, ["beta"])
    someone = who("behalf")
    in_beta = expect(oa.book(user=someone, office="beta", date_=day(3)), 201).json()
    expect(oa.book(user=someone, office="alpha", date_=day(3)), 403, "Forbidden")
    in_alpha = expect(admin.book(user=someone, office="alpha", date_=day(4)), 201).json()
    own_alpha = expect(oa.book(office="alpha", date_=day(4)), 201).json()  # their own booking, anywhere

    listed = expect(oa.get("/api/bookings"), 200).json()
    assert {b["office"]["id"] for b in listed} <= {"beta"} and in_beta["id"] in [b["id"] for b in listed]
    assert [b["id"] for b in expect(oa.get("/api/bookings", user=someone), 200).json()] == [in_beta["id"]]
    assert [b["id"] for b in expect(oa.get("/api/bookings", user=oa.email), 200).json()] == [own_alpha["id"]]
    body = expect(oa.get("/api/bookings", office="alpha"), 403, "Forbidden").json()
    assert someone not in json.dumps(body)
    expect(oa.delete(f"/api/bookings/{in_alpha['id']}"), 403, "Forbidden")
    expect(oa.delete(f"/api/bookings/{in_beta['id']}"), 204)
    # quotas apply to bookings on someone's behalf (default weekly quota 3)
    other = who("behalf")
    monday = today() + timedelta(days=7 - today().weekday())
    for offset in range(3):
        expect(oa.book(user=other, office="beta", date_=(monday + timedelta(days=offset)).isoformat()), 201)
    expect(oa.book(user=other, office="beta", date_=(monday + timedelta(days=3)).isoformat()), 409,
           "User quota exceeded")


def test_admins_cancel_until_the_end_of_the_day(astack, admin):
    oa = office_admin(astack, admin, ["beta"])
    user = Api(astack, who())
    b = expect(user.book(office="beta", date_=day(0)), 201).json()
    expect(user.delete(f"/api/bookings/{b['id']}"), 403, "No longer able to cancel booking")
    expect(oa.delete(f"/api/bookings/{b['id']}"), 204)
