"""Email addresses: normalised (trimmed, lower-cased) wherever they enter the system (SPEC)."""
import re

# Pragmatic syntax check: one @, no spaces, a dot in the domain, RFC length limits.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def normalize_email(value: str) -> str:
    return value.strip().lower()


def is_valid_email(value: str) -> bool:
    return isinstance(value, str) and len(value) <= 254 and _EMAIL.match(value) is not None
