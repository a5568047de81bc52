"""Pure office rules (SPEC §3)."""
from __future__ import annotations


def seed_plan(config_offices: list, existing_ids: set[str]) -> tuple[list, list[str]]:
    """What first start does with the config's offices: (offices to insert, ids ignored).

    The config seeds only an empty table; once there are offices, the application is the source
    of truth and offices still in the config are ignored (with a warning).
    """
    if existing_ids:
        return [], [o.id for o in config_offices if o.id not in existing_ids]
    return list(config_offices), []
