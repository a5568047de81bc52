"""Start one service: `python -m obcommon.launch <service>`.

The one start command for a service, used by the Procfile (local runner), the tests and the
containers. It patches eventlet and psycopg before anything else is imported, sets up JSON
logging and tracing, validates the config (exit 2 naming each bad field) and runs nameko.
"""
from obcommon.green import monkey_patch

monkey_patch()

import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import eventlet  # noqa: E402

from .config import ConfigError, Env, load_config  # noqa: E402
from .db import make_psycopg_green  # noqa: E402
from .logs import setup_logging  # noqa: E402
from .procs import DEFAULT_PORTS, SERVICES  # noqa: E402
from .tracing import setup_tracing  # noqa: E402


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2) or argv[0] not in SERVICES:
        print(f"usage: python -m obcommon.launch {{{'|'.join(SERVICES)}}} [module:Class]", file=sys.stderr)
        return 2
    name = argv[0]
    # The optional second argument runs another class as this service (tests use it to run a
    # deliberately broken variant and show that their checks catch it).
    service_path = argv[1] if len(argv) == 2 else f"services.{name}.service:Service"
    make_psycopg_green()
    setup_logging(name)
    try:
        load_config()
        env = Env.from_environ()
        if not env.database_url:
            raise ConfigError("Invalid environment:\n  - DATABASE_URL: must be set")
        if name == "notify" and not env.smtp_host and not env.local_development:
            # SPEC §17: in production mail must really go out; never fall back to the log.
            raise ConfigError("Invalid environment:\n  - SMTP_HOST: must be set in production mode "
                              "(notify has no SMTP server to send sign-in codes through; "
                              "OB_MODE=development is only for a local machine)")
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    setup_tracing(name)
    module_name, _, class_name = service_path.partition(":")
    service_cls = getattr(importlib.import_module(module_name), class_name)
    port = int(os.environ.get("SERVICE_PORT") or DEFAULT_PORTS[name])
    nameko_config = {
        "AMQP_URI": env.amqp_uri,
        "WEB_SERVER_ADDRESS": f"{os.environ.get('SERVICE_HOST', '0.0.0.0')}:{port}",
        # Concurrent workers per process; each may hold one database connection (pool = this + 2).
        "max_workers": int(os.environ.get("MAX_WORKERS") or 10),
        "serializer": "json",
        "HEARTBEAT": 30,
    }
    logging.getLogger(__name__).info("starting %s service on port %s", name, port)
    serve(service_cls, nameko_config, float(os.environ.get("SHUTDOWN_GRACE_SECONDS") or 20))
    return 0


def serve(service_cls, nameko_config: dict, grace: float) -> None:
    """nameko's `run`, with a bounded graceful stop. On SIGTERM (or Ctrl-C) the container stops
    taking messages, lets its workers finish, reply and acknowledge, and the process exits 0; work
    still running after `grace` seconds is killed (its calls were not acknowledged, so the broker
    delivers them again, and a command answers from what it committed). A container that dies of
    an error exits the process non-zero (the supervisor restarts it)."""
    import errno
    import signal

    from nameko.runners import ServiceRunner

    log = logging.getLogger(__name__)
    runner = ServiceRunner(nameko_config)
    runner.add_service(service_cls)
    stopping: list[bool] = []

    def stop() -> None:
        if stopping:
            return
        stopping.append(True)
        log.info("stopping: finishing in-flight work (at most %.0f s)", grace)
        deadline = eventlet.spawn_after(grace, kill)
        runner.stop()
        deadline.cancel()
        log.info("stopped")

    def kill() -> None:
        log.warning("in-flight work did not finish within %.0f s: killing it (its calls will be delivered again)",
                    grace)
        runner.kill()

    # a signal handler runs outside any green thread: hand the stop to one
    signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(stop))
    runner.start()
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
            return
        except OSError as exc:  # EINTR: a signal arrived while the hub waited
            if exc.errno != errno.EINTR:
                raise
        except KeyboardInterrupt:
            eventlet.spawn_n(stop)


if __name__ == "__main__":
    sys.exit(main())
