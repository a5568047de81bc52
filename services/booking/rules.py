"""Pure booking rules (SPEC §4)."""
from datetime import date

MAX_RANGE_DAYS = 400


def parse_dates(values: list[str]) -> list[date]:
    """ISO dates, at most MAX_RANGE_DAYS of them; ValueError otherwise."""
    if len(values) > MAX_RANGE_DAYS:
        raise ValueError("too many dates")
    return [date.fromisoformat(v) for v in values]
