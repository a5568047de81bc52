"""web/src/api-types.ts is what openapi-typescript makes of the document the gateway serves at
/api/openapi.json: a change of the API without regenerating it (python -m tools.api_types) fails."""
import copy
import shutil

import pytest

from tools import api_types

pytestmark = pytest.mark.skipif(shutil.which("npx") is None, reason="needs Node (npx) for openapi-typescript")


@pytest.fixture(scope="module")
def doc() -> dict:
    return api_types.document()


def test_the_generated_types_match_the_served_document(doc):
    assert api_types.TYPES.read_text() == api_types.generate(doc), \
        "web/src/api-types.ts is out of date: run .venv/bin/python -m tools.api_types"


def test_a_change_of_the_document_shows_as_drift(doc):
    changed = copy.deepcopy(doc)
    changed["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"].append("brand_new_code")
    text = api_types.generate(changed)
    assert "brand_new_code" in text and text != api_types.TYPES.read_text()
    assert api_types.main(["--check"]) == 0  # the committed file is current
