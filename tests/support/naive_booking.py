"""A deliberately naive booking service: read the count, then insert, with no lock.

Only the concurrency tests run it (`python -m obcommon.launch booking
tests.support.naive_booking:Service`), to show that their race would catch such a bug."""
import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from obcommon.db import utcnow
from obcommon.service import rpc
from services.booking.exceptions import OfficeFull
from services.booking.models import Booking, DayCount, Office
from services.booking.repository import booking_json
from services.booking.service import BookingService


class NaiveBookingService(BookingService):
    @rpc
    def create_booking(self, request: dict, caller: str, idempotency_key=None, request_id=None) -> dict:
        self._ensure_office(request["office"])  # as the real service does: its read model may lag
        with self.db.uow() as uow:
            s = uow.session
            office = s.get(Office, request["office"])
            day = date.fromisoformat(request["date"])
            taken = s.scalar(select(func.count()).select_from(Booking).where(
                Booking.office == office.id, Booking.date == day, Booking.status == "active"))
            if taken >= office.quota:
                raise OfficeFull()
            booking = Booking(id=uuid.uuid4().hex, user=request["user"], office=office.id, date=day,
                              parking=bool(request.get("parking")), status="active", created_at=utcnow(),
                              created_by=caller)
            s.add(booking)
            s.execute(insert(DayCount).values(office=office.id, date=day, booked=1, booked_parking=0, version=1)
                      .on_conflict_do_update(index_elements=["office", "date"],
                                             set_={"booked": DayCount.booked + 1, "version": DayCount.version + 1}))
            s.flush()
            result = booking_json(booking, office)
            uow.commit()
            return result


Service = NaiveBookingService
