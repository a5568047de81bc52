"""Offices persistence: the service's SQL, one transaction per function, with its events in the
outbox. `service.py` is the entry points (validation with `schemas.py`); the pure rules are in
`rules.py`. (The first start's seeding runs in `dependencies.py`'s Seeder.)"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from obcommon.service import Db

from .contract import OFFICE_CREATED, OFFICE_UPDATED
from .exceptions import OfficeExists, OfficeNotFound
from .models import Office


def list_offices(db: Db, include_retired: bool) -> list[dict]:
    """In the order they were configured or created (SPEC §3)."""
    with db.uow() as uow:
        query = select(Office).order_by(Office.position)
        if not include_retired:
            query = query.where(Office.retired.is_(False))
        return [o.to_dict() for o in uow.session.scalars(query)]


def get_office(db: Db, office_id: str) -> dict:
    with db.uow() as uow:
        office = uow.session.get(Office, office_id)
        if office is None:
            raise OfficeNotFound("Not Found")
        return office.to_dict()


def create_office(db: Db, values: dict, actor: str) -> dict:
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
        uow.emit(OFFICE_CREATED, actor=actor, entity="office", entity_id=office.id, office=office.id, after=after)
        uow.commit()
    return after


def update_office(db: Db, office_id: str, changes: dict, actor: str) -> dict:
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
            uow.emit(OFFICE_UPDATED, actor=actor, entity="office", entity_id=office.id, office=office.id,
                     before=before, after=after)
        uow.commit()
    return after
