"""Pure audit rules: what of an event is kept, cursors and filters (unit-tested without I/O)."""
from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ConfigDict, ValidationError

from obcommon.messaging import EventPayload

from .exceptions import InvalidCursor, InvalidFilter

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class Envelope(EventPayload):
    """The audit envelope of any event; the event's own fields are ignored, never stored."""

    model_config = ConfigDict(extra="ignore")


class ErasedEnvelope(Envelope):
    """identity.user_erased as audit reads it: the envelope (stored) plus the erased user's email
    and pseudonym (used to pseudonymise older records, never stored). Without them the event is
    still recorded."""

    email: str | None = None
    pseudonym: str | None = None


class InvalidEvent(ValueError):
    """A message that does not carry the audit envelope (it cannot be recorded)."""


def handler_name(service: str, event_type: str) -> str:
    """The audit service's method name for one event, e.g. `on_identity__user_signed_in`."""
    return f"on_{service}__{event_type}"


def parse_at(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:  # producers send UTC; a naive time is read as UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def format_at(at: datetime) -> str:
    """ISO 8601 in UTC with `Z` (SPEC §9)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def project(payload: Any) -> dict:
    """The columns of a record for an event payload: the envelope only.

    Fields an event adds (a login `code`, a booking `reason`, ...) are dropped here.
    """
    try:
        env = Envelope.model_validate(payload)
        at = parse_at(env.at)
    except (ValidationError, ValueError, TypeError) as exc:
        raise InvalidEvent(str(exc)) from None
    return {
        "event_id": env.event_id,
        "at": at,
        "service": env.service,
        "action": env.type,
        "actor": env.actor,
        "entity": env.entity,
        "entity_id": env.entity_id,
        "office": env.office,
        "before": env.before,
        "after": env.after,
    }


def record_view(record: Any) -> dict:
    """SPEC §9 audit record of a stored row."""
    return {
        "id": str(record.id),
        "at": format_at(record.at),
        "actor": record.actor,
        "action": record.action,
        "entity": record.entity,
        "entity_id": record.entity_id,
        "office": record.office,
        "before": record.before,
        "after": record.after,
    }


def encode_cursor(at: datetime, record_id: int) -> str:
    """An opaque keyset cursor: the (at, id) of the last record of a page."""
    raw = f"{at.astimezone(UTC).isoformat()}|{int(record_id)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Any) -> tuple[datetime, int]:
    try:
        if not isinstance(cursor, str) or not cursor or len(cursor) > 200:
            raise ValueError("not a cursor")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, id_text = raw.rsplit("|", 1)
        at = datetime.fromisoformat(at_text)
        record_id = int(id_text)
        if at.tzinfo is None or record_id < 1 or not id_text.isdigit():
            raise ValueError("not a cursor")
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor("Invalid cursor") from None
    return at.astimezone(UTC), record_id


def _day(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidFilter(f"Invalid {name}: use YYYY-MM-DD") from None


def time_range(date_from: Any = None, date_to: Any = None) -> tuple[datetime | None, datetime | None]:
    """Inclusive UTC days to a half-open [start, end) range of instants (None: unbounded)."""
    first, last = _day(date_from, "from date"), _day(date_to, "to date")
    if first and last and first > last:
        raise InvalidFilter("Invalid date range: from is after to")
    start = datetime.combine(first, time(), UTC) if first else None
    end = None
    if last and last < date.max:
        end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return start, end


def clamp_limit(limit: Any) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    try:
        value = int(limit)
    except (ValueError, TypeError):
        raise InvalidFilter("Invalid limit") from None
    return max(1, min(MAX_LIMIT, value))


# ------------------------------------------------------------------------------ erasure

ERASED_EVENT = ("identity", "user_erased")
# An event stamped up to this long after an erasure is still treated as "from before it": the
# clocks of two services may differ a little.
ERASURE_GRACE = timedelta(seconds=5)


def emails_in(row: dict) -> set[str]:
    """Addresses a record may name: its actor and entity id, and any string value of before/after
    that looks like an email (normalised)."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, str):
            if "@" in value and len(value) <= 254:
                found.add(value.strip().lower())
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)

    visit(row.get("actor"))
    visit(row.get("entity_id"))
    visit(row.get("before"))
    visit(row.get("after"))
    return found


def substitute(row: dict, replacements: dict[str, str]) -> dict:
    """`row` with every value equal to an email of `replacements` replaced by its pseudonym
    (whole string values only, as pseudonymise_actor does in the table)."""

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return replacements.get(value.strip().lower(), value)
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    if not replacements:
        return row
    return {**row, **{k: swap(row.get(k)) for k in ("actor", "entity_id", "before", "after")}}
