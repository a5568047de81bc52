"""Run the gateway: `python -m gateway` (the same command locally and in the container).

GATEWAY_PROCESSES serving processes (default: 2 where two CPUs are available, else 1) on one port:
one is `gateway/server.py` in this process; more are forked by `gateway/workers.py`.
"""
from obcommon.green import monkey_patch

monkey_patch()

import sys  # noqa: E402

from obcommon.config import ConfigError, Env, load_config  # noqa: E402


def main() -> int:
    try:
        config = load_config()
        env = Env.from_environ()
        env.derive_key("csrf")
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if env.gateway_processes > 1:
        from gateway import workers  # sets up the shared metrics before prometheus_client is imported

        return workers.run(config, env)
    from obcommon.logs import setup_logging

    setup_logging("gateway")
    from gateway import server

    return server.serve(config, env)


if __name__ == "__main__":
    sys.exit(main())
