"""Administration through the gateway against the real services (SPEC §1, §3, §4, §6, §8, §9), one
module per area (users, offices, bookings on behalf, stats, audit log, self-test, input), all on one
stack (`astack`, conftest.py) with two gateway replicas."""
