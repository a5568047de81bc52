"""The OpenAPI document, generated from the same pydantic models that validate requests.

Routes are declared with `endpoint(...)`, which registers the Flask view and records its request
body, query and response models; `/api/openapi.json` is built from that record.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import BaseModel

from obcommon import __version__

from .schemas import ErrorBody


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    auth: bool
    body: Optional[type[BaseModel]] = None
    query: Optional[type[BaseModel]] = None
    responses: dict[int, Any] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def register(op: Operation) -> None:
    OPERATIONS.append(op)


def _ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response_schema(spec: Any, components: dict) -> Optional[dict]:
    if spec is None:
        return None
    if isinstance(spec, list):
        return {"type": "array", "items": _ref(spec[0], components)}
    if isinstance(spec, dict):
        return spec
    return _ref(spec, components)


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
            schema = _response_schema(spec, components)
            if isinstance(spec, dict) and "content" in spec:
                item["responses"][str(status)] = spec
            elif schema is None:
                item["responses"][str(status)] = {"description": "no content"}
            else:
                item["responses"][str(status)] = {"description": "success",
                                                  "content": {"application/json": {"schema": schema}}}
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
