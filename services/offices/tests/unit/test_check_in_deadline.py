"""SPEC §11: an office's check-in deadline, "HH:MM" or null, validated naming the field."""
import pytest
from pydantic import ValidationError

from obcommon.config import AppConfig
from services.offices.schemas import OfficeCreate, OfficeUpdate


def test_create_and_update_accept_a_deadline_or_null():
    assert OfficeCreate.model_validate({"id": "a", "name": "A", "quota": 1, "check_in_deadline": "09:30"},
                                       strict=True).check_in_deadline == "09:30"
    update = OfficeUpdate.model_validate({"check_in_deadline": None}, strict=True)
    assert "check_in_deadline" in update.model_fields_set and update.check_in_deadline is None


@pytest.mark.parametrize("value", ["24:00", "9:30", "09:30:00", "", "noon", 930])
def test_a_bad_deadline_names_the_field(value):
    for model, fields in ((OfficeCreate, {"id": "a", "name": "A", "quota": 1}), (OfficeUpdate, {})):
        with pytest.raises(ValidationError) as exc:
            model.model_validate({**fields, "check_in_deadline": value}, strict=True)
        assert exc.value.errors()[0]["loc"] == ("check_in_deadline",)


def test_config_default_check_in_deadline():
    assert AppConfig().default_check_in_deadline is None
    assert AppConfig(default_check_in_deadline="10:00").default_check_in_deadline == "10:00"
    with pytest.raises(ValidationError) as exc:
        AppConfig(default_check_in_deadline="25:00")
    assert "default_check_in_deadline" in str(exc.value)
