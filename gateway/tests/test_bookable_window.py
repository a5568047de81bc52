"""The gateway's slots and booking's rule 6 use one bookable window (SPEC §4): every day the
gateway offers is one the decision accepts, and the days either side are refused."""
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.api import bookable_dates
from gateway.app import create_app
from obcommon.config import AppConfig, Env
from services.booking import exceptions as errors
from services.booking import rules


@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_gateways_slots_are_the_days_the_decision_accepts(zone):
    app = create_app(AppConfig(advance_booking_days=5), Env.from_environ({"SECRET_KEY": "k" * 32}), listen=False)
    office = rules.Office("o", "O", quota=10, parking_quota=0, timezone=zone)
    with app.app_context():
        days = [date.fromisoformat(d) for d in bookable_dates({"id": "o", "timezone": zone})]
    now = datetime.now(UTC)
    assert len(days) == 5 and days == [days[0] + timedelta(days=i) for i in range(5)]

    def admitted(day: date) -> bool:
        try:
            rules.admit(rules.Request("u@x.example", "o", day), rules.Snapshot(office), rules.Settings(5), now)
        except errors.DateOutOfRange:
            return False
        return True

    assert all(admitted(d) for d in days)
    assert not admitted(days[0] - timedelta(days=1)) and not admitted(days[-1] + timedelta(days=1))
