"""Gateway operations: config, health, metrics, OpenAPI, web app, error shape (SPEC §8–10)."""
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from obcommon import __version__


def test_config_is_public_and_exact(stack):
    r = requests.get(stack.url("/api/config"), timeout=10)
    assert r.status_code == 200
    assert r.json() == {
        "version": __version__,
        "email_regex": r"^(.*)@(my-company\.example)$",
        "advance_booking_days": 14,
        "reason_to_book_required": False,
        "show_test_banner": False,
    }


def test_health_readiness_and_metrics_on_gateway_and_every_service(stack):
    for key, proc in stack.processes.items():
        assert requests.get(proc.url + "/healthz", timeout=10).status_code == 200, key
        ready = requests.get(proc.url + "/readyz", timeout=10)
        assert ready.status_code == 200, key
        assert ready.json()["checks"] == {"broker": "ok", "database": "ok"} or \
            set(ready.json()["checks"]) == {"broker", "database"}, key
        metrics = requests.get(proc.url + "/metrics", timeout=10)
        assert metrics.status_code == 200 and metrics.headers["Content-Type"].startswith("text/plain"), key
    gateway_metrics = requests.get(stack.url("/metrics"), timeout=10).text
    assert "ob_http_requests_total" in gateway_metrics
    assert "ob_http_request_duration_seconds_bucket" in gateway_metrics


def test_unknown_api_path_is_json_404_and_wrong_method_405(stack):
    r = requests.get(stack.url("/api/does-not-exist"), timeout=10)
    assert r.status_code == 404 and r.json()["message"] == "Not Found" and r.json()["reference"]
    r = requests.delete(stack.url("/api/config"), timeout=10)
    assert r.status_code in (404, 405) and r.json()["reference"]
    assert r.headers["Content-Type"].startswith("application/json")


def test_error_reference_is_in_the_log_line(stack):
    r = requests.get(stack.url("/api/me"), timeout=10)
    reference = r.json()["reference"]
    log = stack.processes["gateway"].log_path
    deadline = time.monotonic() + 5
    while reference not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(ln for ln in log.read_text().splitlines() if reference in ln)
    assert '"level": "INFO"' in line and '"status": 401' in line


def test_too_large_body_is_413(stack):
    r = requests.post(stack.url("/api/auth/code"), data="{" + " " * 70000 + "}", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["reference"]


def test_openapi_document_lists_the_api_with_request_schemas(stack):
    doc = requests.get(stack.url("/api/openapi.json"), timeout=10).json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["version"] == __version__
    code = doc["paths"]["/api/auth/code"]["post"]
    assert code["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CodeRequest"}
    assert doc["components"]["schemas"]["CodeRequest"]["required"] == ["email"]
    assert "/api/offices/{office_id}" in doc["paths"]
    assert "/api/users/{email}" in doc["paths"]


def test_web_app_is_served_with_client_side_routes(stack):
    for path in ("/", "/booking/some-day", "/admin/users", "/help", "/privacy"):
        r = requests.get(stack.url(path), timeout=10)
        assert r.status_code == 200 and "<title>Office Booker</title>" in r.text, path


def test_office_detail_has_slots_for_the_bookable_window(stack):
    client = stack.client("someone-offices@my-company.example")
    r = client.get(stack.url("/api/offices/alpha"), timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("id", "name", "quota", "parking_quota", "timezone", "retired")} == {
        "id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 60,
        "timezone": "Europe/London", "retired": False}
    today = datetime.now(ZoneInfo("Europe/London")).date()
    assert [s["date"] for s in body["slots"]] == [(today + timedelta(days=i)).isoformat() for i in range(14)]
    assert all(isinstance(s["booked"], int) and 0 <= s["booked_parking"] <= s["booked"] for s in body["slots"])
    missing = client.get(stack.url("/api/offices/nowhere"), timeout=10)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    assert requests.get(stack.url("/api/offices/alpha"), timeout=10).status_code == 401


def test_config_names_no_dev_mailbox_outside_local_development(stack):
    # the test stack has SMTP configured: not local development
    assert "X-Dev-Mailbox" not in requests.get(stack.url("/api/config"), timeout=10).headers
