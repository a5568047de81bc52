"""The gateway's RPC pool after a broker outage: proxies that sat idle while the broker
went away are not used again (their reply queue died with their connection, so a call through one
would wait for its timeout and answer 503); the first call after the broker is back is answered.
Real broker (the shared stack's vhost) reached through a proxy the test cuts, real booking."""
import time

from gateway.rpc import RpcPool
from tests.support.tcpproxy import TcpProxy


def test_calls_after_a_broker_outage_are_answered_not_timed_out(stack):
    proxy, proxied = TcpProxy.for_amqp(stack.amqp_uri)
    pool = RpcPool(proxied, size=4, timeout=5)
    try:
        def slots():
            with pool.client() as rpc:
                return rpc.booking.get_slots("alpha", ["2030-01-01"])

        for _ in range(3):
            assert slots()[0]["date"] == "2030-01-01"
        before = list(pool._all)
        proxy.cut()
        time.sleep(0.5)
        proxy.restore()
        started = time.monotonic()
        assert slots()[0]["date"] == "2030-01-01"
        assert time.monotonic() - started < 3, "the call waited for its timeout on a dead proxy"
        assert not any(runner in pool._all for runner in before), "a proxy whose connection died was kept"
    finally:
        pool.close()
        proxy.close()
