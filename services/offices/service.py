"""Offices: office configuration (SPEC §3)."""
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from obcommon import validation
from obcommon.emails import normalize_email
from obcommon.service import BaseService, Database, command, rpc

from .contract import OFFICE_CREATED, OFFICE_UPDATED, SERVICE
from .dependencies import Seeder
from .exceptions import InvalidOffice, OfficeExists, OfficeNotFound
from .models import Base, Office
from .schemas import OfficeCreate, OfficeUpdate


class OfficesService(BaseService):
    name = SERVICE

    db = Database(Base)
    seeder = Seeder()

    @rpc
    def list_offices(self, include_retired: bool = False) -> list[dict]:
        with self.db.uow() as uow:
            query = select(Office).order_by(Office.position)
            if not include_retired:
                query = query.where(Office.retired.is_(False))
            return [o.to_dict() for o in uow.session.scalars(query)]

    @rpc
    def get_office(self, office_id: str) -> dict:
        with self.db.uow() as uow:
            office = uow.session.get(Office, str(office_id))
            if office is None:
                raise OfficeNotFound("Not Found")
            return office.to_dict()

    @command
    def create_office(self, fields: dict, actor: str) -> dict:
        """A new office (System Admins, SPEC §3); its position puts it after every existing one."""
        data = _validated(OfficeCreate, fields)
        values = {"id": data.id, "name": data.name, "quota": data.quota, "parking_quota": data.parking_quota,
                  "timezone": data.timezone or self.settings.default_timezone, "retired": data.retired}
        with self.db.uow() as uow:
            inserted = uow.session.execute(
                insert(Office).values(**values).on_conflict_do_nothing(index_elements=["id"]).returning(Office.id)
            ).first()
            if inserted is None:
                raise OfficeExists(f"Office already exists: {data.id}")
            office = uow.session.get(Office, data.id)
            after = office.to_dict()
            uow.emit(OFFICE_CREATED, actor=_actor(actor), entity="office", entity_id=data.id, office=data.id,
                     after=after)
            uow.commit()
        return after

    @command
    def update_office(self, office_id: str, changes: dict, actor: str) -> dict:
        """Name, quotas, time zone, retired (SPEC §3); absent fields stay unchanged. Existing
        bookings are never touched: a lower quota only stops new ones while a day is full, and
        bookings keep their dates when the time zone changes."""
        data = _validated(OfficeUpdate, changes)
        nulls = sorted(k for k in data.model_fields_set if getattr(data, k) is None)
        if nulls:
            raise InvalidOffice("; ".join(f"Invalid {k}: must not be null" for k in nulls))
        with self.db.uow() as uow:
            office = uow.session.scalars(select(Office).where(Office.id == str(office_id)).with_for_update()).first()
            if office is None:
                raise OfficeNotFound("Not Found")
            before = office.to_dict()
            for key in data.model_fields_set:
                setattr(office, key, getattr(data, key))
            after = office.to_dict()
            if after != before:
                uow.emit(OFFICE_UPDATED, actor=_actor(actor), entity="office", entity_id=office.id, office=office.id,
                         before=before, after=after)
            uow.commit()
        return after


def _validated(model, fields):
    if not isinstance(fields, dict):
        raise InvalidOffice("Bad request body")
    try:
        return model.model_validate(fields, strict=True)
    except ValidationError as exc:
        raise InvalidOffice(validation.describe(exc)) from None


def _actor(actor) -> str:
    return normalize_email(str(actor or "unknown"))


Service = OfficesService
