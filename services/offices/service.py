"""Offices: office configuration (SPEC §3)."""
from pydantic import ValidationError

from obcommon import validation
from obcommon.emails import normalize_email
from obcommon.service import BaseService, Database, command, rpc

from . import repository
from .contract import SERVICE
from .dependencies import Seeder
from .exceptions import InvalidOffice
from .models import Base
from .schemas import OfficeCreate, OfficeUpdate


class OfficesService(BaseService):
    name = SERVICE

    db = Database(Base)
    seeder = Seeder()

    @rpc
    def list_offices(self, include_retired: bool = False, with_version: bool = False) -> list[dict]:
        return repository.list_offices(self.db, bool(include_retired), bool(with_version))

    @rpc
    def get_office(self, office_id: str, with_version: bool = False) -> dict:
        return repository.get_office(self.db, str(office_id), bool(with_version))

    @command
    def create_office(self, fields: dict, actor: str, with_version: bool = False) -> dict:
        """A new office (System Admins, SPEC §3); its position puts it after every existing one."""
        data = _validated(OfficeCreate, fields)
        values = {"id": data.id, "name": data.name, "quota": data.quota, "parking_quota": data.parking_quota,
                  "timezone": data.timezone or self.settings.default_timezone, "retired": data.retired,
                  "check_in_deadline": (data.check_in_deadline if "check_in_deadline" in data.model_fields_set
                                        else self.settings.default_check_in_deadline),
                  "allocation": data.allocation, "ballot_draw_days_before": data.ballot_draw_days_before,
                  "ballot_draw_time": data.ballot_draw_time}
        return repository.create_office(self.db, values, _actor(actor), bool(with_version))

    @command
    def update_office(self, office_id: str, changes: dict, actor: str, with_version: bool = False) -> dict:
        """Name, quotas, time zone, retired (SPEC §3); absent fields stay unchanged. Existing
        bookings are never touched: a lower quota only stops new ones while a day is full, and
        bookings keep their dates when the time zone changes."""
        data = _validated(OfficeUpdate, changes)
        nulls = sorted(k for k in data.model_fields_set if getattr(data, k) is None and k != "check_in_deadline")
        if nulls:
            raise InvalidOffice("; ".join(f"Invalid {k}: must not be null" for k in nulls))
        changes = {key: getattr(data, key) for key in data.model_fields_set}
        return repository.update_office(self.db, str(office_id), changes, _actor(actor), bool(with_version))


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
