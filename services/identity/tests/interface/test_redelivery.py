"""Identity's commands delivered again (same correlation id) answer the first delivery's answer
and change nothing more: one code, one mail, one rate-limit hit per key."""
import time
import uuid

import psycopg

from tests.support.redeliver import RawRpc


def test_a_redelivered_code_request_issues_one_code(stack):
    address = f"redeliver-{uuid.uuid4().hex[:8]}@my-company.example"
    raw = RawRpc(stack.amqp_uri)
    try:
        call = uuid.uuid4().hex
        first = raw.call("identity", "request_code", address, "198.51.100.7", correlation_id=call)
        again = raw.call("identity", "request_code", address, "198.51.100.7", correlation_id=call)
    finally:
        raw.close()
    assert first == again == {"sent": True}
    stack.smtp.code_for(address)
    time.sleep(1)  # a second mail would have arrived by now
    assert len(stack.smtp.to(address)) == 1
    with psycopg.connect(stack.database_url) as conn:
        (hits,) = conn.execute("SELECT count(*) FROM identity.rate_hits WHERE key = %s",
                               (f"email:{address}",)).fetchone()
    assert hits == 1
