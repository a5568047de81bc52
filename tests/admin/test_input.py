"""Input that cannot be stored through the admin endpoints: 400, never a 500."""
from __future__ import annotations

import requests

from ..support.admin import day, expect

# ------------------------------------------------------------------------------ input that cannot be stored


def test_nul_characters_are_a_400_never_a_500(astack, admin):
    """Found by the OpenAPI fuzzer: PostgreSQL refuses NUL in text and JSON."""
    expect(admin.post("/api/offices", {"id": "nul", "name": "a\u0000b", "quota": 1}), 400, "Bad request body")
    expect(admin.book(user=admin.email, office="alpha\u0000"), 400, "Bad request body")
    expect(admin.post("/api/bookings", {"user": admin.email, "office": "alpha", "date": day(1), "reason": "\u0000"}),
           400, "Bad request body")
    expect(admin.get("/api/users/a%00b@my-company.example"), 400, "Bad request")
    expect(admin.get("/api/offices/al%00pha"), 400, "Bad request")
    expect(admin.get("/api/audit", actor="a\u0000b"), 400, "Bad request")
    expect(admin.get("/api/users", email_prefix="\u0000"), 400, "Bad request")
    expect(admin.put("/api/offices/tiny", {"name": "Ti\u0007ny"}), 400, "Invalid name: must not contain control characters")
    expect(requests.get(astack.url("/api/users/a%00b@my-company.example"), timeout=10), 401)  # authentication first
