"""Run the gateway: `python -m gateway` (the same command locally and in the container).

One eventlet process per replica: green threads serve requests and share a pool of RPC proxies.
"""
import warnings

warnings.filterwarnings("ignore", message="\\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import eventlet.wsgi  # noqa: E402

from obcommon.config import ConfigError, Env, load_config  # noqa: E402
from obcommon.logs import setup_logging  # noqa: E402
from obcommon.tracing import setup_tracing  # noqa: E402


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
    host = os.environ.get("GATEWAY_HOST", "0.0.0.0")
    sock = eventlet.listen((host, env.gateway_port), reuse_port=True, backlog=1024)
    logging.getLogger("gateway").info("gateway listening on http://%s:%s/", host, env.gateway_port)
    eventlet.wsgi.server(sock, app, log_output=False, max_size=2000, keepalive=True,
                         socket_timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
