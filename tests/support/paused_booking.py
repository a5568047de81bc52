"""The booking service with one more RPC, `pause(seconds)`: a call that holds a worker for a
known time and touches nothing. The replica-stop test streams it at two replicas and stops one
(`python -m obcommon.launch booking tests.support.paused_booking:PausedBooking`)."""
import eventlet

from obcommon.service import rpc
from services.booking.service import BookingService


class PausedBooking(BookingService):
    @rpc
    def pause(self, seconds: float) -> float:
        eventlet.sleep(seconds)
        return seconds
