"""The audit log (SPEC §9 GET /api/audit): filters, pagination, an Office Admin's scope."""
from __future__ import annotations

import time

from ..support.admin import ADMIN, Api, day, expect, wait_until, who
from .common import office_admin

# ------------------------------------------------------------------------------ audit log


def test_audit_log_filters_pagination_and_office_scope(astack, admin):
    office_id = f"aud-{time.monotonic_ns() % 10**8}"
    expect(admin.post("/api/offices", {"id": office_id, "name": "Audited", "quota": 5}), 201)
    for quota in (6, 7, 8):
        expect(admin.put(f"/api/offices/{office_id}", {"quota": quota}), 200)
    records = wait_until(lambda: (r := expect(admin.get("/api/audit", office=office_id), 200).json()["records"])
                         and len(r) == 4 and r)
    assert [r["action"] for r in records] == ["office_updated"] * 3 + ["office_created"]  # newest first
    assert [r["after"]["quota"] for r in records] == [8, 7, 6, 5]
    assert records[0]["before"]["quota"] == 7 and all(r["actor"] == ADMIN for r in records)
    assert set(records[0]) == {"id", "at", "actor", "action", "entity", "entity_id", "office", "before", "after"}

    page1 = expect(admin.get("/api/audit", office=office_id, limit=3), 200).json()
    page2 = expect(admin.get("/api/audit", office=office_id, limit=3, cursor=page1["next_cursor"]), 200).json()
    assert [r["id"] for r in page1["records"] + page2["records"]] == [r["id"] for r in records]
    assert page2["next_cursor"] is None
    assert expect(admin.get("/api/audit", office=office_id, actor=ADMIN.upper(), **{"from": day(-1), "to": day(1)}),
                  200).json()["records"] == records
    assert expect(admin.get("/api/audit", office=office_id, **{"to": day(-2)}), 200).json()["records"] == []
    expect(admin.get("/api/audit", cursor="garbage"), 400, "Invalid cursor")
    expect(admin.get("/api/audit", **{"from": "yesterday"}), 400, "Invalid from date: use YYYY-MM-DD")

    oa = office_admin(astack, admin, [office_id])
    seen = expect(oa.get("/api/audit", limit=200), 200).json()["records"]
    assert seen and {r["office"] for r in seen} == {office_id}
    expect(oa.get("/api/audit", office="alpha"), 403, "Forbidden")
    expect(Api(astack, who()).get("/api/audit"), 403, "Forbidden")
