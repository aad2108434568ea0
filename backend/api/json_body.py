"""JSON request bodies read by the endpoint itself, for the routes every charge takes.

FastAPI's own body handling costs a charge more than a tenth of a millisecond per request:
per-request endpoint introspection, a MIME parse of the Content-Type, `json.loads`, then the
model's validation of the Python objects, all through the dependency solver. Here pydantic
parses and validates the bytes in one pass (`model_validate_json`), and refusals are the same
RequestValidationError that FastAPI raises, so they get the API's usual 400 answer. The route
documents its body with `documented(Model)`, and the app adds the model to the OpenAPI
components (`add_schemas`).
"""

from __future__ import annotations

import email.message
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_MODELS: dict[str, type[BaseModel]] = {}  # by schema name, as the components list them


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose required JSON body is a `model`."""
    _MODELS[model.__name__] = model
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


def add_schemas(api: FastAPI) -> None:
    """Put the models of `documented` bodies into api's OpenAPI components."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _MODELS.values():
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in found.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(model.__name__, found)
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


async def parse(request: Request, model: type[M]) -> M:
    """The request's body as a `model`, refused as FastAPI refuses a body parameter."""
    raw = await request.body()
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        if _is_json(request.headers.get("content-type")):
            return model.model_validate_json(raw)
        return model.model_validate(raw)  # not JSON: refused, as FastAPI validates the bytes
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    if content_type == "application/json":
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
