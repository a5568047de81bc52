"""A real SMTP peer (aiosmtpd) that records what the system sends."""
from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, peer: SmtpPeer):
        self.peer = peer

    async def handle_DATA(self, server, session, envelope):
        peer = self.peer
        if peer.data_delay:  # a slow server: how many mails are in its hands at once
            with peer.lock:
                peer.in_flight += 1
                peer.max_in_flight = max(peer.max_in_flight, peer.in_flight)
            try:
                await asyncio.sleep(peer.data_delay)
            finally:
                with peer.lock:
                    peer.in_flight -= 1
        with peer.lock:  # parsed when a test reads it: receiving stays cheap under load (benchmarks)
            peer.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _parse(content: bytes) -> EmailMessage:
    msg = email.message_from_bytes(content, policy=email.policy.default)
    subject = msg["Subject"]
    if subject is not None and str(subject) != str(subject).strip():
        # A subject longer than a line is folded right after "Subject:" (valid RFC 5322, and
        # every mail client unfolds it), which Python's parser returns with a leading space.
        msg.replace_header("Subject", str(subject).strip())
    return msg


class SmtpPeer:
    def __init__(self, port: int, data_delay: float = 0.0):
        self.port = port
        self.data_delay = data_delay  # seconds before each DATA is answered
        self.in_flight = self.max_in_flight = 0
        self.received: list[tuple[list[str], bytes]] = []  # (recipients, raw mail), appended under `lock`
        self._parsed: list[tuple[list[str], EmailMessage]] = []
        self._parse_lock = threading.Lock()
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def start(self) -> SmtpPeer:
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        """Every mail received so far as (recipients, parsed mail), in order of arrival."""
        with self._parse_lock:
            raw = list(self.received)  # a consistent prefix: appends are atomic
            for rcpts, content in raw[len(self._parsed):]:
                self._parsed.append((rcpts, _parse(content)))
            return self._parsed[:len(raw)]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise TimeoutError(f"no mail #{count} for {address} within {timeout}s (have {len(self.to(address))})")

    @staticmethod
    def text(msg: EmailMessage) -> str:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part else ""

    def code_for(self, address: str, count: int = 1, timeout: float = 15.0) -> str:
        msg = self.wait_for(address, count, timeout)[count - 1]
        match = re.search(r"\b(\d{6})\b", self.text(msg))
        assert match, f"no 6-digit code in mail to {address}"
        return match.group(1)
