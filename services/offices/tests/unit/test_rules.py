from obcommon.config import OfficeSeed
from services.offices.rules import seed_plan

A = OfficeSeed(id="a", name="A", quota=1)
B = OfficeSeed(id="b", name="B", quota=2)


def test_empty_table_is_seeded_in_config_order():
    assert seed_plan([A, B], set()) == ([A, B], [])


def test_filled_table_ignores_the_config_and_names_new_ones():
    assert seed_plan([A, B], {"a"}) == ([], ["b"])
    assert seed_plan([A, B], {"a", "b"}) == ([], [])


# ------------------------------------------------------------------------------ office fields

import pytest  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from obcommon.validation import describe  # noqa: E402
from services.offices.schemas import OfficeCreate, OfficeUpdate  # noqa: E402


def message(model, data) -> str:
    with pytest.raises(ValidationError) as err:
        model.model_validate(data, strict=True)
    return describe(err.value)


def test_create_defaults_and_trimmed_name():
    office = OfficeCreate.model_validate({"id": "hq-2", "name": "  HQ  ", "quota": 0}, strict=True)
    assert (office.name, office.parking_quota, office.timezone, office.retired) == ("HQ", 0, None, False)


@pytest.mark.parametrize("data, expected", [
    ({"id": "x", "name": "X", "quota": 1, "timezone": "Mars/Base"},
     "Invalid timezone: unknown time zone 'Mars/Base' (use an IANA name such as Europe/London)"),
    ({"id": "X!", "name": "X", "quota": 1}, "Invalid id: String should match pattern '^[a-z0-9-]+$'"),
    ({"id": "x", "name": "a\x00b", "quota": 1}, "Invalid name: must not contain control characters"),
    ({"id": "x", "quota": 100001, "name": "X"}, "Invalid quota: Input should be less than or equal to 100000"),
    ({"name": "X"}, "Missing id; Missing quota"),
    ({"id": "x", "name": "X", "quota": True}, "Invalid quota: Input should be a valid integer"),
])
def test_create_errors_name_the_field(data, expected):
    assert message(OfficeCreate, data) == expected


def test_update_takes_any_subset_and_remembers_which():
    changes = OfficeUpdate.model_validate({"quota": 3, "retired": True}, strict=True)
    assert changes.model_fields_set == {"quota", "retired"}
    assert message(OfficeUpdate, {"parking_quota": -1}) == \
        "Invalid parking_quota: Input should be greater than or equal to 0"
