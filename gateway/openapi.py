"""The OpenAPI document, generated from the same pydantic models that validate requests.

Routes are declared with `endpoint(...)`, which registers the Flask view and records its request
body, query and response models; `/api/openapi.json` is built from that record.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from obcommon import __version__

from .schemas import ErrorBody


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    auth: bool
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, Any] = field(default_factory=dict)
    write: bool = False


OPERATIONS: list[Operation] = []


def register(op: Operation) -> None:
    OPERATIONS.append(op)


def _ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response_schema(spec: Any, components: dict) -> dict | None:
    if spec is None:
        return None
    if isinstance(spec, list):
        return {"type": "array", "items": _ref(spec[0], components)}
    if isinstance(spec, dict):
        return spec
    return _ref(spec, components)


def _media(spec: dict, components: dict) -> dict:
    """A response given as `{"content": {media type: model, list or schema}}` (several media
    types, e.g. JSON or CSV)."""
    content = {media: schema if isinstance(schema, dict) and "schema" in schema  # already an OpenAPI media object
               else {"schema": _response_schema(schema, components) or {}}
               for media, schema in spec["content"].items()}
    return {"description": spec.get("description", "success"), "content": content}


# The errors the `endpoint()` wrapper itself can answer, documented for every operation it guards.
ERROR_DESCRIPTIONS = {
    400: "bad request (body, query or a rule of the endpoint)",
    401: "not signed in",
    403: "forbidden (role, office scope, or a cookie write without the CSRF token)",
    404: "not found",
    409: "conflict",
    413: "request too large",
    415: "not JSON",
    429: "too many requests",
    503: "read-only mode, or a dependency is unavailable",
}


def _implied_errors(op: Operation) -> set[int]:
    statuses = {503}
    if op.auth:
        statuses.add(401)
        if op.method.upper() not in ("GET", "HEAD", "OPTIONS"):
            statuses.add(403)  # CSRF
    if op.body is not None:
        statuses.update({400, 413, 415})
    if op.query is not None:
        statuses.add(400)
    if "<" in op.path:
        statuses.update({400, 404})  # an unusable or unknown id
    return statuses


def document() -> dict:
    components: dict[str, Any] = {}
    paths: dict[str, dict] = {}
    error_ref = _ref(ErrorBody, components)
    for op in OPERATIONS:
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", op.path)
        item: dict[str, Any] = {"summary": op.summary, "operationId": f"{op.method.lower()}_{path}", "responses": {}}
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{([a-z_]+)}", path)
        ]
        if op.query:
            schema = op.query.model_json_schema()
            for name, prop in schema.get("properties", {}).items():
                prop = {k: v for k, v in prop.items() if k != "title"}
                params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                               "schema": prop})
        if params:
            item["parameters"] = params
        if op.body:
            item["requestBody"] = {"required": True,
                                   "content": {"application/json": {"schema": _ref(op.body, components)}}}
        if op.auth:
            item["security"] = [{"bearer": []}, {"cookie": []}]
        for status, spec in op.responses.items():
            if isinstance(spec, dict) and "content" in spec:
                item["responses"][str(status)] = _media(spec, components)
                continue
            response_schema = _response_schema(spec, components)
            if response_schema is None:
                item["responses"][str(status)] = {"description": "no content"}
            else:
                description = "success" if int(status) < 400 else ERROR_DESCRIPTIONS.get(int(status), "error")
                item["responses"][str(status)] = {"description": description,
                                                  "content": {"application/json": {"schema": response_schema}}}
        for status in sorted(_implied_errors(op) - {int(k) for k in op.responses}):
            item["responses"][str(status)] = {"description": ERROR_DESCRIPTIONS[status],
                                              "content": {"application/json": {"schema": error_ref}}}
        if params:
            # Refused by the HTTP server itself, before the app: no JSON body (SPEC §10 covers the app).
            item["responses"]["414"] = {"description": "request line over 8 KiB (answered by the HTTP server, "
                                                       "without a body)"}
        item["responses"]["default"] = {"description": "error",
                                        "content": {"application/json": {"schema": error_ref}}}
        paths.setdefault(path, {})[op.method.lower()] = item
    return {
        "openapi": "3.0.3",
        "info": {"title": "Office Booker API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "ob_session"},
            },
        },
    }
