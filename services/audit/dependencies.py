"""What audit listens to: every event of every audited service's contract."""
import importlib

from obcommon.messaging import EventSpec

# One line per service whose changes are audited (SPEC §8). A contract module that does not
# exist (yet) is skipped.
AUDITED_CONTRACTS = (
    "services.identity.contract",
    "services.offices.contract",
    "services.booking.contract",
)


def audited_events(modules=AUDITED_CONTRACTS) -> list[EventSpec]:
    events: list[EventSpec] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name in (name, name.rsplit(".", 1)[0]):
                continue
            raise
        events.extend(module.CONTRACT.events)
    return events
