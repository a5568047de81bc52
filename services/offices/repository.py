"""Offices persistence: the service's SQL, one transaction per function, with its events in the
outbox. `service.py` is the entry points (validation with `schemas.py`); the pure rules are in
`rules.py`; `dependencies.py`'s Seeder calls `seed_offices` at start."""
from __future__ import annotations

import logging

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from obcommon.service import Db

from .contract import OFFICE_CREATED, OFFICE_UPDATED
from .exceptions import OfficeExists, OfficeNotFound
from .models import Office
from .rules import seed_plan

log = logging.getLogger(__name__)


def seed_offices(db: Db, config) -> int:
    """Insert the config's offices if the table is empty (SPEC §3); otherwise warn that they are
    ignored. Runs under an advisory lock so several starting replicas seed exactly once."""
    with db.uow() as uow:
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
            s.flush()  # the column defaults (allocation …) are in the event's office
            uow.emit(OFFICE_CREATED, actor="config", entity="office", entity_id=seed.id, office=seed.id,
                     after=office.to_dict(), version=office.version)
        uow.commit()
    log.info("seeded %d offices from the config", len(to_insert))
    return len(to_insert)


def list_offices(db: Db, include_retired: bool, with_version: bool = False) -> list[dict]:
    """In the order they were configured or created (SPEC §3); `with_version`: each with its
    `version` (for read models)."""
    with db.uow() as uow:
        query = select(Office).order_by(Office.position)
        if not include_retired:
            query = query.where(Office.retired.is_(False))
        return [_copy(o, with_version) for o in uow.session.scalars(query)]


def get_office(db: Db, office_id: str, with_version: bool = False) -> dict:
    with db.uow() as uow:
        office = uow.session.get(Office, office_id)
        if office is None:
            raise OfficeNotFound("Not Found")
        return _copy(office, with_version)


def _copy(office: Office, with_version: bool) -> dict:
    return {**office.to_dict(), "version": office.version} if with_version else office.to_dict()


def create_office(db: Db, values: dict, actor: str, with_version: bool = False) -> dict:
    """Insert the office (its position puts it after every existing one) and `office_created`;
    an existing id is OfficeExists."""
    with db.uow() as uow:
        inserted = uow.session.execute(
            insert(Office).values(**values).on_conflict_do_nothing(index_elements=["id"]).returning(Office.id)
        ).first()
        if inserted is None:
            raise OfficeExists(f"Office already exists: {values['id']}")
        office = uow.session.get(Office, values["id"])
        after = office.to_dict()
        uow.emit(OFFICE_CREATED, actor=actor, entity="office", entity_id=office.id, office=office.id, after=after,
                 version=office.version)
        uow.commit()
        return _copy(office, with_version)


def update_office(db: Db, office_id: str, changes: dict, actor: str, with_version: bool = False) -> dict:
    """Set `changes` on the office under its row lock; `office_updated` only when something changed."""
    with db.uow() as uow:
        office = uow.session.scalars(select(Office).where(Office.id == office_id).with_for_update()).first()
        if office is None:
            raise OfficeNotFound("Not Found")
        before = office.to_dict()
        for key, value in changes.items():
            setattr(office, key, value)
        after = office.to_dict()
        if after != before:
            office.version += 1
            uow.emit(OFFICE_UPDATED, actor=actor, entity="office", entity_id=office.id, office=office.id,
                     before=before, after=after, version=office.version)
        uow.commit()
        return _copy(office, with_version)
