"""Pseudonyms of erased users, and validation messages that name the field."""

import pytest
from pydantic import BaseModel, Field, ValidationError

from obcommon import erasure
from obcommon.validation import describe


def test_pseudonym_is_stable_keyed_and_not_the_email():
    key = b"k" * 32
    p = erasure.pseudonym(key, "Someone@My-Company.example ")
    assert p == erasure.pseudonym(key, "someone@my-company.example")
    assert p.startswith("erased-") and len(p) == len("erased-") + 24 and "someone" not in p
    assert p != erasure.pseudonym(b"x" * 32, "someone@my-company.example")
    assert p != erasure.pseudonym(key, "someone.else@my-company.example")


class Model(BaseModel):
    name: str = Field(min_length=1)
    quota: int | None = Field(None, le=10)


def test_describe_names_each_bad_field():
    with pytest.raises(ValidationError) as err:
        Model.model_validate({"quota": 11})
    assert describe(err.value) == "Missing name; Invalid quota: Input should be less than or equal to 10"


def test_describe_is_bounded():
    with pytest.raises(ValidationError) as err:
        Model.model_validate({"name": "", "quota": "x" * 1000})
    assert len(describe(err.value)) <= 300
