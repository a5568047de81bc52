"""The trivial-RPC anchor of the benchmarks: what one RPC hop costs here, with nothing else.

A nameko service with one RPC that does nothing (no database, no events), behind a Flask app
served by eventlet.wsgi that calls it through the gateway's own pool of proxies
(`gateway.rpc.RpcPool`). Decisions are measured as a ratio to it (issue 16), so a change to the
RPC layer shows in both.

    python -m tools.anchor service        # nameko service "anchor" (AMQP_URI)
    python -m tools.anchor web PORT       # GET /ping -> anchor.ping(), on 127.0.0.1:PORT
"""
from __future__ import annotations

import sys

if __name__ == "__main__":  # before anything imports socket or threading
    import eventlet

    eventlet.monkey_patch()

from nameko.rpc import rpc


class AnchorService:
    name = "anchor"

    @rpc
    def ping(self) -> dict:
        return {"ok": True}


def serve_web(port: int, amqp_uri: str) -> None:
    import eventlet
    import eventlet.wsgi
    from flask import Flask, jsonify

    from gateway.rpc import RpcPool

    pool = RpcPool(amqp_uri)
    app = Flask("anchor")

    @app.get("/ping")
    def ping():
        with pool.client() as services:
            return jsonify(services.anchor.ping())

    sock = eventlet.listen(("127.0.0.1", port), backlog=1024)
    print(f"anchor web listening on {port}", flush=True)
    eventlet.wsgi.server(sock, app, log_output=False, max_size=2000, keepalive=True)


def serve_service(amqp_uri: str) -> None:
    from nameko.runners import ServiceRunner

    runner = ServiceRunner({"AMQP_URI": amqp_uri, "serializer": "json"})
    runner.add_service(AnchorService)
    runner.start()
    print("anchor service ready", flush=True)
    runner.wait()


if __name__ == "__main__":
    import os

    uri = os.environ["AMQP_URI"]
    if sys.argv[1] == "service":
        serve_service(uri)
    else:
        serve_web(int(sys.argv[2]), uri)
