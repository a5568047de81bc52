"""The OpenAPI document lists, for every operation, the errors the endpoint wrapper can answer."""
from obcommon.config import AppConfig, Env


def document() -> dict:
    from gateway import openapi
    from gateway.app import create_app

    env = Env.from_environ({"SECRET_KEY": "gateway-tests-secret-key", "AMQP_URI": "amqp://nowhere:1/"})
    app = create_app(AppConfig(), env, listen=False)
    app.extensions["ob"].rpc.close()
    return openapi.document()


def test_implied_errors_are_documented():
    doc = document()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            statuses = set(op["responses"]) - {"default"}
            where = f"{method.upper()} {path}"
            assert "503" in statuses, where
            if op.get("security"):
                assert "401" in statuses, where
                if method != "get":
                    assert "403" in statuses, where  # CSRF on cookie writes
            if "requestBody" in op:
                assert {"400", "413", "415"} <= statuses, where
            if "{" in path:
                assert {"400", "404", "414"} <= statuses, where
            for status, response in op["responses"].items():
                if status not in ("default", "414") and int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == \
                        {"$ref": "#/components/schemas/ErrorBody"}, (where, status)


def test_admin_routes_and_the_csv_stats_are_documented():
    doc = document()
    assert {"post", "put", "delete"} <= set(doc["paths"]["/api/offices/{office_id}"]) | set(doc["paths"]["/api/offices"])
    stats = doc["paths"]["/api/stats"]["get"]["responses"]["200"]["content"]
    assert set(stats) == {"application/json", "text/csv"}
    assert doc["components"]["schemas"]["StatsResponse"]["properties"]["office_dates"]["type"] == "array"
    assert "409" in doc["paths"]["/api/offices"]["post"]["responses"]
    assert "429" in doc["paths"]["/api/auth/code"]["post"]["responses"]
