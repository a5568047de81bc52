"""Validation errors as messages a user can act on: each names the field it is about."""
from __future__ import annotations

from pydantic import ValidationError

MAX_MESSAGE = 300


def describe(exc: ValidationError) -> str:
    """"Invalid quota: Input should be less than or equal to 100; Missing name" (at most 300 chars)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] == "missing":
            parts.append(f"Missing {where}")
        else:
            parts.append(f"Invalid {where}: {err['msg'].removeprefix('Value error, ')}")
    message = "; ".join(parts) or "Invalid request"
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
