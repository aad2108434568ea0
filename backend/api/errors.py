"""One error shape for every failure: {"success": false, "error": {"code", "message", "param"}}.

A payment refused by the card issuer adds error.declineCode; one refused by the risk rules adds
error.rule too, the rule that fired."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.api.responses import JSONResponse
from backend.core.errors import RateLimited, ServiceError

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str
    param: str | None = None
    declineCode: str | None = None
    rule: str | None = Field(
        default=None,
        description="A risk refusal (402 payment_blocked) only: the rule that fired, as in "
        "payment.risk.reasons (velocity_card:7_in_1h, blocklisted_email, "
        "test_card_always_blocks...).",
    )


class ErrorBody(BaseModel):
    success: bool = False
    error: ErrorDetail


# What a route documents it may answer (OpenAPI `responses`). The codes every route means the same
# way are worded once here; a router words the codes whose meaning is its own (404, 409, 422...).
Responses = dict[int | str, dict[str, Any]]
_SHARED_WORDS = {
    400: "The request is malformed (JSON, types, fields)",
    401: "Missing or invalid API key",
    404: "No such object for this merchant and mode",
    413: "The body is larger than 1 MB",
    422: "A value is not acceptable",
    429: "Rate limit reached; see Retry-After",
}


def error_responses(words: dict[int, str], *codes: int) -> Responses:
    """The documented errors: `codes` (all of the shared ones and of `words` if none are given),
    each with the router's words if it has some, else the shared ones."""
    merged = {**_SHARED_WORDS, **words}
    return {
        code: {"model": ErrorBody, "description": merged[code]} for code in sorted(codes or merged)
    }


def only(responses: Responses, *codes: int) -> Responses:
    """The entries of `responses` for `codes`: what a narrower route can answer."""
    return {code: entry for code, entry in responses.items() if code in codes}


def without(responses: Responses, *codes: int) -> Responses:
    """`responses` but `codes`: e.g. a list answers no 404."""
    return {code: entry for code, entry in responses.items() if code not in codes}


def error_response(
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "success": False,
        "error": {"code": code, "message": message, "param": param},
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def service_error_response(exc: ServiceError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(exc.status, exc.code, exc.message, exc.param, headers=headers)


def _param(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


_HTTP_CODES = {
    400: "invalid_request",
    401: "authentication_failed",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return service_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        param = _param(tuple(first.get("loc", ())))
        if first.get("type") == "json_invalid":
            return error_response(400, "invalid_json", "The request body is not valid JSON")
        message = first.get("msg", "invalid value")
        if param:
            message = f"{param}: {message}"
        return error_response(400, "invalid_request", message, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return error_response(exc.status_code, code, detail, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in the API", exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side")
