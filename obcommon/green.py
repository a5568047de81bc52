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
