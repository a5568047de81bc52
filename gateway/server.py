"""One gateway process serving HTTP (`python -m gateway` starts one, or several: gateway/workers.py).

One eventlet loop per process: green threads serve requests and share a pool of RPC proxies.

On SIGTERM (Ctrl-C) it drains: /readyz answers 503 at once, the listener stays open for
GATEWAY_DRAIN_SECONDS (default 2; Ctrl-C: none) so load balancers stop sending traffic, then it
stops accepting, lets the requests in flight finish (at most SHUTDOWN_GRACE_SECONDS, default 10:
event streams never finish, their clients reconnect elsewhere with Last-Event-ID) and exits 0.
"""
import logging
import os
import signal
from collections.abc import Callable, Iterable

import eventlet
import eventlet.event
import eventlet.hubs
import eventlet.wsgi

from obcommon.config import AppConfig, Env
from obcommon.tracing import setup_tracing


def take_turns(wsgi_app: Callable) -> Callable:
    """Each request first lets the other green threads run.

    eventlet.wsgi serves a keep-alive connection in one green thread that reads the next request
    as soon as it has answered one, and a read whose data has already arrived does not yield to
    the hub. A fast client that sends its next request while the previous answer is being
    finished keeps the loop, and the other connections wait: with 50 connections over two
    gateway processes, p50 0.5 ms but p99 1.4 s and wrk timeouts (issue 16). One `sleep(0)` per
    request (a hub switch, a few microseconds) gives every ready connection its turn: p99 30 ms
    (docs/benchmarks.md; tests/test_gateway_fairness.py).
    """
    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        eventlet.sleep(0)
        return wsgi_app(environ, start_response)

    return wrapped


def serve(config: AppConfig, env: Env, worker: bool = False) -> int:
    """One gateway process until SIGTERM/SIGINT; `worker`: one of several forked by
    gateway/workers.py (it starts its own eventlet hub, and stops when its parent is gone)."""
    if worker:
        eventlet.hubs.use_hub()  # never the parent's: each worker's loop is its own
    setup_tracing("gateway")
    from gateway.app import create_app

    app = create_app(config, env)
    app.wsgi_app = take_turns(app.wsgi_app)  # type: ignore[method-assign]
    host = os.environ.get("GATEWAY_HOST", "0.0.0.0")
    sock = eventlet.listen((host, env.gateway_port), reuse_port=True, backlog=1024)
    log = logging.getLogger("gateway")
    log.info("gateway listening on http://%s:%s/ (process %s)", host, env.gateway_port, os.getpid())
    # capitalize_response_headers=False: our header names are already in their usual case, and
    # eventlet's re-capitalising of every name cost ~3 % of a read's CPU (issue 16)
    server = eventlet.spawn(eventlet.wsgi.server, sock, app, log_output=False, max_size=2000, keepalive=True,
                            socket_timeout=60, capitalize_response_headers=False)
    done = eventlet.event.Event()
    server.link(lambda _: done.ready() or done.send())
    drain_seconds = float(os.environ.get("GATEWAY_DRAIN_SECONDS") or 2)
    grace = float(os.environ.get("SHUTDOWN_GRACE_SECONDS") or 10)

    def stop(drain: float) -> None:
        if app.config.get("OB_DRAINING"):
            return
        app.config["OB_DRAINING"] = True
        log.info("stopping: /readyz answers 503; the listener closes in %.0f s", drain)
        eventlet.sleep(drain)
        server.kill(SystemExit)  # the server stops accepting and waits for the requests in flight
        # Close the listener now, not after the requests in flight (eventlet.wsgi closes it only
        # then): with SO_REUSEPORT the kernel keeps queueing new connections on this socket while
        # it is open, and resets every one still queued when it closes. Closed at once, they go
        # to the replicas still listening.
        sock.close()
        with eventlet.Timeout(grace, False):
            server.wait()
        if not server.dead:
            log.warning("requests still in flight after %.0f s (event streams): exiting anyway", grace)
        if not done.ready():
            done.send()

    # a signal handler runs outside any green thread: hand the stop to one
    signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(stop, drain_seconds))
    signal.signal(signal.SIGINT, lambda *_: eventlet.spawn_n(stop, 0))
    if worker:
        parent = os.getppid()

        def orphaned() -> None:  # the parent was killed (SIGKILL): stop rather than hold the port
            while os.getppid() == parent:
                eventlet.sleep(1)
            log.warning("the gateway's parent process is gone: stopping")
            stop(0)

        eventlet.spawn_n(orphaned)
    while True:
        try:
            done.wait()
            break
        except OSError:  # EINTR: a signal arrived while the hub waited
            continue
    app.extensions["ob"].rpc.close()
    log.info("stopped")
    return 0
