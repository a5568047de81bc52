from services.offices.models import Office


def test_office_json_has_exactly_the_spec_fields():
    office = Office(id="alpha", name="Office Alpha", quota=10, parking_quota=0, timezone="Europe/London",
                    retired=False)
    assert office.to_dict() == {"id": "alpha", "name": "Office Alpha", "quota": 10, "parking_quota": 0,
                                "timezone": "Europe/London", "retired": False, "check_in_deadline": None,
                                "allocation": "first_come", "ballot_draw_days_before": 7,
                                "ballot_draw_time": "12:00"}
