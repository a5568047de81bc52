"""eventlet for our processes, patched once at the top of each entry point (`python -m
obcommon.launch`, `python -m gateway`), before anything imports socket or threading.

eventlet's green DNS (greendns) imports dnspython, and dnspython imports `cryptography`: ~17 MB
of resident memory per process (issue 16's footprint; 6 processes: ~100 MB). Without it eventlet
would resolve names with the C library's blocking `getaddrinfo`, stalling the whole hub while a
slow DNS server answers; instead the lookup runs in eventlet's pool of real threads (`tpool`), so
the other green threads keep running. (libpq resolves PostgreSQL's host itself, with or without
this; its connections are pooled, so that happens once per connection.)
"""
import os
import warnings

# nameko 2.x needs eventlet; its deprecation notice at import is known (PLATFORM-NOTES.md).
warnings.filterwarnings("ignore", message="\\s*Eventlet is deprecated")
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")



def monkey_patch() -> None:
    import socket

    import eventlet.green.socket
    from eventlet import patcher, tpool

    eventlet.monkey_patch()
    blocking = patcher.original("socket")  # the C library's resolver, unpatched

    def getaddrinfo(*args, **kwargs):
        return tpool.execute(blocking.getaddrinfo, *args, **kwargs)

    if os.environ["EVENTLET_NO_GREENDNS"].lower() in ("yes", "y", "t", "true", "on", "1"):
        socket.getaddrinfo = getaddrinfo
        eventlet.green.socket.getaddrinfo = getaddrinfo
    _reuse_producer_pools()


def _reuse_producer_pools() -> None:
    """nameko's publisher builds a kombu `Connection` for every message it publishes (an RPC
    call, a reply, an event), only to look up the pool of producers for that broker, which is
    the same pool every time. The pool is looked up once per broker and options instead (33.6 →
    15.7 µs of CPU per publish, docs/benchmarks.md); what is acquired from it, and how it
    recovers from a lost broker, is kombu's as before. (`_closed` is kombu's own flag on a pool
    its `reset()` closed: then the pool is looked up again.)"""
    from contextlib import contextmanager

    import nameko.amqp.publish as publish
    from kombu import Connection
    from kombu.pools import producers

    pools: dict = {}

    @contextmanager
    def get_producer(amqp_uri, confirms=True, ssl=None, login_method=None, transport_options=None):
        options = dict(publish.DEFAULT_TRANSPORT_OPTIONS if transport_options is None else transport_options)
        options["confirm_publish"] = confirms
        key = (amqp_uri, repr(ssl), login_method, repr(sorted(options.items())))
        pool = pools.get(key)
        if pool is None or pool._closed:  # (closed: kombu's pools were reset)
            conn = Connection(amqp_uri, transport_options=options, ssl=ssl, login_method=login_method)
            pool = pools[key] = producers[conn]
        with pool.acquire(block=True) as producer:
            yield producer

    publish.get_producer = get_producer

