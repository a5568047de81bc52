"""Run the gateway: `python -m gateway` (the same command locally and in the container).

One eventlet process per replica: green threads serve requests and share a pool of RPC proxies.

On SIGTERM (Ctrl-C) it drains: /readyz answers 503 at once, the listener stays open for
GATEWAY_DRAIN_SECONDS (default 2; Ctrl-C: none) so load balancers stop sending traffic, then it
stops accepting, lets the requests in flight finish (at most SHUTDOWN_GRACE_SECONDS, default 10:
event streams never finish, their clients reconnect elsewhere with Last-Event-ID) and exits 0.
"""
from obcommon.green import monkey_patch

monkey_patch()

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402

import eventlet  # noqa: E402
import eventlet.event  # noqa: E402
import eventlet.wsgi  # noqa: E402

from obcommon.config import ConfigError, Env, load_config  # noqa: E402
from obcommon.logs import setup_logging  # noqa: E402
from obcommon.tracing import setup_tracing  # noqa: E402


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


def main() -> int:
    setup_logging("gateway")
    try:
        config = load_config()
        env = Env.from_environ()
        env.derive_key("csrf")
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    setup_tracing("gateway")
    from gateway.app import create_app

    app = create_app(config, env)
    app.wsgi_app = take_turns(app.wsgi_app)  # type: ignore[method-assign]
    host = os.environ.get("GATEWAY_HOST", "0.0.0.0")
    sock = eventlet.listen((host, env.gateway_port), reuse_port=True, backlog=1024)
    log = logging.getLogger("gateway")
    log.info("gateway listening on http://%s:%s/", host, env.gateway_port)
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
    while True:
        try:
            done.wait()
            break
        except OSError:  # EINTR: a signal arrived while the hub waited
            continue
    app.extensions["ob"].rpc.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
