"""The local development mailbox: `python -m obcommon.devmail` (SPEC §2, development mode only).

An SMTP server on DEV_MAILBOX (default 127.0.0.1:1025) that logs every message it receives as one
JSON line (to, subject, text body: the sign-in code is visible in the console) and keeps the last
200 in memory, plus a page on DEV_MAILBOX_HTTP (default 127.0.0.1:8025): `/` lists them newest
first, `/messages.json` returns them as JSON. No authentication: bind it to loopback.
"""
from __future__ import annotations

import html
import json
import logging
import os
import signal
import sys
import threading
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from .logs import setup_logging

log = logging.getLogger("obcommon.devmail")
MESSAGES: deque = deque(maxlen=200)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Development mailbox</title>
<style>body{{font-family:sans-serif;margin:2em}}article{{border-bottom:1px solid #ccc}}
pre{{white-space:pre-wrap}}</style></head><body><h1>Development mailbox ({count})</h1>{items}</body></html>"""


def address(var: str, default: str) -> tuple[str, int]:
    host, _, port = (os.environ.get(var) or default).rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class Mailbox:
    """aiosmtpd handler: accept everything, log it, keep it."""

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain", "html"))
        item = {
            "received_at": datetime.now(UTC).isoformat(),
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(msg.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
            "attachments": [part.get_filename() for part in msg.iter_attachments()],
        }
        MESSAGES.append(item)
        log.info("mail received", extra={k: item[k] for k in ("to", "subject", "body", "attachments")})
        return "250 Message accepted for delivery"


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        items = list(reversed(MESSAGES))
        if path == "/messages.json":
            self._send(200, "application/json", json.dumps(items))
        elif path == "/":
            e = html.escape
            rows = "".join(
                f"<article><h2>{e(m['subject'])}</h2><p>{e(m['received_at'])} from {e(m['from'])} "
                f"to {e(', '.join(m['to']))}"
                + (f" (attachments: {e(', '.join(a or '?' for a in m['attachments']))})" if m["attachments"] else "")
                + f"</p><pre>{e(m['body'])}</pre></article>"
                for m in items
            )
            self._send(200, "text/html; charset=utf-8", PAGE.format(count=len(items), items=rows or "<p>No mail yet.</p>"))
        else:
            self._send(404, "text/plain; charset=utf-8", "not found")

    def _send(self, status: int, content_type: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet: the mail log lines are what matters
        pass


def main() -> int:
    setup_logging("devmail")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    smtp_host, smtp_port = address("DEV_MAILBOX", "127.0.0.1:1025")
    http_host, http_port = address("DEV_MAILBOX_HTTP", "127.0.0.1:8025")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controller = Controller(Mailbox(), hostname=smtp_host, port=smtp_port, server_hostname="devmail.localhost")
    try:
        controller.start()
        httpd = ThreadingHTTPServer((http_host, http_port), Page)
    except OSError as exc:
        controller.stop(no_assert=True)
        print(f"development mailbox cannot start: {exc}", file=sys.stderr)
        return 1
    threading.Thread(target=httpd.serve_forever, name="devmail-http", daemon=True).start()
    log.info("development mailbox: SMTP on %s:%s, messages on http://%s:%s/", smtp_host, smtp_port, http_host, http_port)
    while not stop.wait(0.5):
        pass
    httpd.shutdown()
    httpd.server_close()
    controller.stop()
    log.info("development mailbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
