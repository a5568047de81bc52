"""What audit listens to: every event of every audited service's contract."""
import importlib

from nameko.extensions import DependencyProvider

from obcommon.messaging import EventSpec

# One line per service whose events are audited (SPEC §8): every service that emits events.
AUDITED_CONTRACTS = (
    "services.identity.contract",
    "services.offices.contract",
    "services.booking.contract",
    "services.notify.contract",
)


def audited_events(modules=AUDITED_CONTRACTS) -> list[EventSpec]:
    events: list[EventSpec] = []
    for name in modules:
        events.extend(importlib.import_module(name).CONTRACT.events)
    return events


class _PseudonymKey:
    def __init__(self):
        from obcommon import erasure
        from obcommon.config import Env

        self.key = Env.from_environ().derive_key(erasure.KEY_PURPOSE)

    def pseudonym(self, email: str) -> str:
        from obcommon import erasure

        return erasure.pseudonym(self.key, email)


class PseudonymKey(DependencyProvider):
    """The key (derived from SECRET_KEY, as identity derives it) that turns an erased user's email
    into their pseudonym."""

    def setup(self) -> None:
        self.keys = _PseudonymKey()

    def get_dependency(self, worker_ctx) -> _PseudonymKey:
        return self.keys
