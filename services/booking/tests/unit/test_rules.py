from datetime import date

import pytest

from services.booking import rules


def test_parse_dates():
    assert rules.parse_dates(["2030-01-01"]) == [date(2030, 1, 1)]
    with pytest.raises(ValueError):
        rules.parse_dates(["2030-13-01"])
    with pytest.raises(ValueError):
        rules.parse_dates(["2030-01-01"] * (rules.MAX_RANGE_DAYS + 1))
