from obcommon.config import OfficeSeed
from services.offices.rules import seed_plan

A = OfficeSeed(id="a", name="A", quota=1)
B = OfficeSeed(id="b", name="B", quota=2)


def test_empty_table_is_seeded_in_config_order():
    assert seed_plan([A, B], set()) == ([A, B], [])


def test_filled_table_ignores_the_config_and_names_new_ones():
    assert seed_plan([A, B], {"a"}) == ([], ["b"])
    assert seed_plan([A, B], {"a", "b"}) == ([], [])
