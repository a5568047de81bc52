"""/api/config through the Flask test client (no broker needed for this route)."""
from obcommon.config import AppConfig, Env
from gateway.app import create_app


def client(environ: dict):
    env = Env.from_environ({"SECRET_KEY": "k" * 32, **environ})
    return create_app(AppConfig(), env, listen=False).test_client()


def test_local_development_names_the_dev_mailbox_in_a_header_only():
    r = client({"DEV_MAILBOX_HTTP": "127.0.0.1:8025"}).get("/api/config")
    assert r.status_code == 200 and r.headers["X-Dev-Mailbox"] == "http://127.0.0.1:8025/"
    assert set(r.get_json()) == {"version", "email_regex", "advance_booking_days", "reason_to_book_required",
                                 "show_test_banner"}
    assert client({}).get("/api/config").headers["X-Dev-Mailbox"] == ""  # codes only in the log
    assert "X-Dev-Mailbox" not in client({"SMTP_HOST": "mail.example"}).get("/api/config").headers
