"""Offices' nameko dependencies: seeding the table from the config on first start."""
import logging

from nameko.extensions import DependencyProvider
from sqlalchemy import select, text

from .rules import seed_plan

log = logging.getLogger(__name__)


def seed_offices(uow, config, event) -> int:
    """Insert the config's offices if the table is empty; otherwise warn that they are ignored.

    Runs under an advisory lock so several starting replicas seed exactly once.
    """
    from .models import Office

    s = uow.session
    s.execute(text("SELECT pg_advisory_xact_lock(hashtext('offices:seed'))"))
    to_insert, ignored = seed_plan(config.offices, set(s.scalars(select(Office.id))))
    if ignored:
        log.warning("offices in the config are ignored once the offices table is seeded: %s", ", ".join(ignored))
    if not to_insert:
        return 0
    for seed in to_insert:
        office = Office(id=seed.id, name=seed.name, quota=seed.quota, parking_quota=seed.parking_quota,
                        timezone=seed.timezone or config.default_timezone, retired=seed.retired,
                        check_in_deadline=seed.check_in_deadline or config.default_check_in_deadline)
        s.add(office)
        uow.emit(event, actor="config", entity="office", entity_id=seed.id, office=seed.id,
                 after=office.to_dict())
    uow.commit()
    log.info("seeded %d offices from the config", len(to_insert))
    return len(to_insert)


class Seeder(DependencyProvider):
    """Seeds at start-up, before the service takes requests."""

    def __init__(self, db_attr: str = "db"):
        self.db_attr = db_attr

    def start(self) -> None:
        from obcommon.config import load_config
        from obcommon.service import Db

        from .contract import OFFICE_CREATED

        db_provider = next(d for d in self.container.dependencies if getattr(d, "attr_name", None) == self.db_attr)
        with Db(db_provider).uow() as uow:
            seed_offices(uow, load_config(), OFFICE_CREATED)
