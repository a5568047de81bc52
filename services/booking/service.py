"""Booking: bookings and quota enforcement (SPEC §4). Creation and cancellation come with the
booking-engine issue; for now it owns its tables and answers availability."""
from sqlalchemy import select

from obcommon.service import BaseService, Database, rpc

from . import rules
from .contract import SERVICE
from .exceptions import InvalidRange
from .models import Base, DayCount


class BookingService(BaseService):
    name = SERVICE

    db = Database(Base)

    @rpc
    def get_slots(self, office_id: str, dates: list[str]) -> list[dict]:
        try:
            days = rules.parse_dates(dates)
        except (TypeError, ValueError):
            raise InvalidRange("Invalid date range") from None
        with self.db.uow() as uow:
            rows = {
                r.date: r
                for r in uow.session.scalars(
                    select(DayCount).where(DayCount.office == office_id, DayCount.date.in_(days))
                )
            }
            return [
                {"date": d.isoformat(), "booked": rows[d].booked if d in rows else 0,
                 "booked_parking": rows[d].booked_parking if d in rows else 0}
                for d in days
            ]


Service = BookingService
