"""/api/config and the mode-dependent headers through the Flask test client (no broker needed)."""
from gateway.app import create_app
from obcommon.config import AppConfig, Env


def client(environ: dict):
    env = Env.from_environ({"SECRET_KEY": "k" * 32, **environ})
    return create_app(AppConfig(), env, listen=False).test_client()


def test_local_development_names_the_dev_mailbox_in_a_header_only():
    dev = {"OB_MODE": "development"}
    r = client({**dev, "DEV_MAILBOX_HTTP": "127.0.0.1:8025"}).get("/api/config")
    assert r.status_code == 200 and r.headers["X-Dev-Mailbox"] == "http://127.0.0.1:8025/"
    assert set(r.get_json()) == {"version", "email_regex", "advance_booking_days", "reason_to_book_required",
                                 "show_test_banner"}
    assert client(dev).get("/api/config").headers["X-Dev-Mailbox"] == ""  # codes only in the log
    # SPEC §17: anything but OB_MODE=development is production, SMTP server or not
    assert "X-Dev-Mailbox" not in client({"SMTP_HOST": "mail.example"}).get("/api/config").headers
    assert "X-Dev-Mailbox" not in client({"DEV_MAILBOX_HTTP": "127.0.0.1:8025"}).get("/api/config").headers


def test_hsts_in_production_only_with_the_configured_max_age():
    assert client({}).get("/api/config").headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert client({"HSTS_MAX_AGE": "600"}).get("/healthz").headers["Strict-Transport-Security"] == \
        "max-age=600; includeSubDomains"
    assert "Strict-Transport-Security" not in client({"OB_MODE": "development"}).get("/api/config").headers


def test_readiness_answer_is_reused_within_a_second():
    from gateway.app import ReadinessCache

    calls = []
    cache = ReadinessCache(ttl=1.0)
    for _ in range(50):
        assert cache.get(lambda: (calls.append(1), (True, {"broker": "ok"}))[1]) == (True, {"broker": "ok"})
    assert len(calls) == 1
    cache._at -= 1.0  # a second later
    cache.get(lambda: (calls.append(1), (False, {}))[1])
    assert len(calls) == 2
