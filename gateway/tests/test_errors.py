"""A dependency that is down answers 503 "Service unavailable" with a reference, never 500
(SPEC §10): a service's DependencyUnavailable, a broker error on the gateway's side, a database
or broker error surfacing from a service as a RemoteError."""
import amqp.exceptions
import kombu.exceptions
import pytest
from flask import Flask
from nameko.exceptions import RemoteError, RpcTimeout

from gateway.errors import register_error_handlers
from obcommon.messaging import DependencyUnavailable


def app_raising(exc: Exception) -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/boom")
    def boom():
        raise exc

    return app


@pytest.mark.parametrize("exc", [
    DependencyUnavailable("Service unavailable"),
    RpcTimeout(),
    ConnectionResetError(104, "Connection reset by peer"),
    kombu.exceptions.OperationalError("[Errno 111] Connection refused"),
    amqp.exceptions.RecoverableConnectionError("connection already closed"),
    RemoteError("OperationalError", "connection to server at 127.0.0.1 failed"),
], ids=lambda e: type(e).__name__)
def test_dependency_down_is_503_with_a_reference(exc, caplog):
    response = app_raising(exc).test_client().get("/boom")
    body = response.get_json()
    assert response.status_code == 503
    assert body["message"] == "Service unavailable" and len(body["reference"]) == 16
    assert any(r.levelname == "ERROR" and getattr(r, "reference", None) == body["reference"] for r in caplog.records)


def test_a_bug_in_a_service_is_still_500():
    response = app_raising(RemoteError("KeyError", "'x'")).test_client().get("/boom")
    assert response.status_code == 500 and response.get_json()["message"] == "Internal error"
