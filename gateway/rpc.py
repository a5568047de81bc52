"""A pool of nameko RPC proxies, started once and reused (never a proxy per request).

Each standalone `ClusterRpcProxy` owns one reply queue and must not be shared by two green
threads at once, so a request borrows one from the pool and gives it back.
"""
from __future__ import annotations

import contextlib
import queue
import select
import threading
import time
from collections.abc import Iterator

from nameko.standalone.rpc import ClusterRpcProxy

from obcommon import tracing


class RpcPool:
    def __init__(self, amqp_uri: str, size: int = 32, timeout: float = 10.0, wait: float = 60.0):
        """`timeout`: for one call once sent; `wait`: how long a request may queue for a free proxy
        in a burst (queueing shows as latency; only past `wait` does the caller get a 503)."""
        self.config = {"AMQP_URI": amqp_uri, "serializer": "json"}
        self.size = size
        self.timeout = timeout
        self.wait = wait
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._all: list[ClusterRpcProxy] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)  # at most `size` proxies, ever

    def _new(self):
        # The proxy sends `context` (its worker context's data) as message headers with every
        # call; the borrower sets the current trace context in it (see `client`).
        context: dict = {}
        runner = ClusterRpcProxy(self.config, context_data=context, timeout=self.timeout)
        proxy = runner.start()
        with self._lock:
            self._all.append(runner)
        return runner, proxy, context

    def _take(self):
        """An idle proxy, else a new one while there are free slots, else wait for one.

        The slot is taken before the (yielding) connection is made, so a burst of requests can
        never open more than `size` broker connections. An idle proxy whose connection died (the
        broker restarted meanwhile) is dropped, not used: its reply queue went with it."""
        deadline = time.monotonic() + self.wait
        while True:
            try:
                item = self._idle.get_nowait()
            except queue.Empty:
                break
            if _alive(item[0]):
                return item
            self._discard(item[0])
        if self._slots.acquire(blocking=False):
            try:
                return self._new()
            except BaseException:
                self._slots.release()
                raise
        while True:
            try:
                item = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError("every RPC proxy stayed busy") from None  # answered 503
            if _alive(item[0]):
                return item
            self._discard(item[0])
            return self._take()  # its slot is free again

    @contextlib.contextmanager
    def client(self) -> Iterator:
        item = self._take()
        tracing.inject(item[2])  # this request's trace continues in the service
        broken = False
        try:
            yield item[1]
        except Exception as exc:
            # A broken connection or a timed-out call leaves the proxy unusable; drop it.
            broken = not _is_answer(exc)
            raise
        finally:
            if broken:
                self._discard(item[0])
            else:
                self._idle.put(item)

    def _discard(self, runner) -> None:
        with self._lock:
            if runner in self._all:
                self._all.remove(runner)
        self._slots.release()
        with contextlib.suppress(Exception):
            runner.stop()

    def close(self) -> None:
        with self._lock:
            runners, self._all = self._all, []
        for runner in runners:
            with contextlib.suppress(Exception):
                runner.stop()


def _alive(runner) -> bool:
    """Whether an idle proxy's broker connection is still open. An idle proxy expects nothing from
    the broker, so a readable socket means it was closed (or is being closed: a broker shutting
    down sends connection.close first)."""
    try:
        sock = runner._reply_listener.queue_consumer.connection._connection.transport.sock
        if sock is None:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
    except (AttributeError, OSError, ValueError):
        return not hasattr(runner, "_reply_listener")  # a stand-in without a connection (tests)
    return not readable


def _is_answer(exc: Exception) -> bool:
    """A service error (or remote error) is an answer; the proxy is still fine."""
    from nameko.exceptions import RemoteError

    from obcommon.messaging import ServiceError

    return isinstance(exc, (ServiceError, RemoteError))
