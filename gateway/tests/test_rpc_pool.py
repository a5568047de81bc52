"""The RPC pool never opens more proxies (broker connections) than its size, even when a burst
of green threads asks at once (a burst once opened ~1,000 connections and took RabbitMQ down)."""
import threading
import time

from gateway import rpc as rpc_module


class FakeProxy:
    created = 0
    lock = threading.Lock()

    def __init__(self, config, context_data=None, timeout=None):
        with FakeProxy.lock:
            FakeProxy.created += 1

    def start(self):
        time.sleep(0.05)  # connecting yields, as the real one does
        return self

    def stop(self):
        pass


def test_burst_never_exceeds_pool_size(monkeypatch):
    monkeypatch.setattr(rpc_module, "ClusterRpcProxy", FakeProxy)
    FakeProxy.created = 0
    pool = rpc_module.RpcPool("amqp://unused", size=4, timeout=5)
    in_use, peak = 0, 0
    lock = threading.Lock()

    def call():
        nonlocal in_use, peak
        with pool.client():
            with lock:
                in_use += 1
                peak = max(peak, in_use)
            time.sleep(0.01)
            with lock:
                in_use -= 1

    threads = [threading.Thread(target=call) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert FakeProxy.created == 4
    assert peak <= 4


def test_a_broken_proxy_frees_its_slot(monkeypatch):
    monkeypatch.setattr(rpc_module, "ClusterRpcProxy", FakeProxy)
    FakeProxy.created = 0
    pool = rpc_module.RpcPool("amqp://unused", size=1, timeout=1)
    try:
        with pool.client():
            raise ConnectionError("broker went away")
    except ConnectionError:
        pass
    with pool.client():
        pass
    assert FakeProxy.created == 2


def test_an_exhausted_pool_times_out_as_a_dependency_error(monkeypatch):
    """Waiting too long for a proxy is a TimeoutError, which the gateway answers with 503."""
    import pytest

    monkeypatch.setattr(rpc_module, "ClusterRpcProxy", FakeProxy)
    pool = rpc_module.RpcPool("amqp://unused", size=1, wait=0.2)
    with pool.client():
        with pytest.raises(TimeoutError):
            with pool.client():
                pass
