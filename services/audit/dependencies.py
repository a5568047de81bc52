"""What audit listens to: every event of every audited service's contract."""
import importlib

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
