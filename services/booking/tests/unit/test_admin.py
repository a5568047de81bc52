"""The stats range: today − retention … end of the bookable window, over the zones."""
from datetime import UTC, date, datetime

from services.booking.rules import clamp_range, visible_range

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)


def test_visible_range_spans_every_office_zone():
    assert visible_range(NOW, ["Europe/London"], 30, 14) == (date(2030, 5, 16), date(2030, 6, 28))
    # at noon UTC, Kiritimati (UTC+14) is already on the 16th: its window ends a day later
    assert visible_range(NOW, ["Europe/London", "Pacific/Kiritimati"], 30, 14) == (date(2030, 5, 16),
                                                                                  date(2030, 6, 29))
    assert visible_range(NOW, [], 30, 14) == (date(2030, 5, 16), date(2030, 6, 28))


def test_from_and_to_are_clamped_to_the_visible_range():
    visible = (date(2030, 6, 1), date(2030, 6, 5))
    assert clamp_range(visible, None, None) == [date(2030, 6, d) for d in range(1, 6)]
    assert clamp_range(visible, date(2030, 1, 1), date(2030, 6, 2)) == [date(2030, 6, 1), date(2030, 6, 2)]
    assert clamp_range(visible, date(2030, 6, 4), date(2031, 1, 1)) == [date(2030, 6, 4), date(2030, 6, 5)]
    assert clamp_range(visible, date(2030, 7, 1), None) == []
    assert clamp_range(visible, None, date(2030, 5, 31)) == []
