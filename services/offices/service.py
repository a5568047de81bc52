"""Offices: office configuration (SPEC §3)."""
from sqlalchemy import select

from obcommon.service import BaseService, Database, rpc

from .contract import SERVICE
from .dependencies import Seeder
from .exceptions import OfficeNotFound
from .models import Base, Office


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


Service = OfficesService
