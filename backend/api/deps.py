"""What every merchant API request goes through: the API key, the rate limit, idempotency."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.concurrency import run_in_threadpool

from backend.config import get_settings
from backend.db import get_engine, session_scope
from backend.models.enums import ActorType
from backend.services import api_keys, idempotency
from backend.services.errors import AuthenticationFailed, RateLimited, ServiceError
from backend.services.payments import Actor, Scope

from .errors import service_error_response


class Caller:
    """An authenticated API key: whose data it sees and who it is in the audit log."""

    def __init__(self, key: api_keys.KeyContext, ip: str | None) -> None:
        self.key = key
        self.scope = Scope(key.merchant_id, key.livemode)
        self.actor = Actor(ActorType.API_KEY, key.api_key_id, ip)


@lru_cache
def _limiter() -> tuple[SlidingWindowCounterRateLimiter, Any]:
    settings = get_settings()
    # Shared across workers through Redis when it is configured, per process otherwise.
    storage = storage_from_string(settings.redis_url or "memory://")
    return SlidingWindowCounterRateLimiter(storage), parse(settings.api_rate_limit)


def _check_rate(api_key_id: str) -> None:
    limiter, item = _limiter()
    if not limiter.hit(item, "api", api_key_id):
        reset = limiter.get_window_stats(item, "api", api_key_id).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        raise RateLimited(
            f"Too many requests for this API key ({get_settings().api_rate_limit}); "
            f"retry after {retry_after} s",
            retry_after=retry_after,
        )


def _authenticate(authorization: str | None) -> api_keys.KeyContext:
    if not authorization:
        raise AuthenticationFailed(
            "No API key given: send `Authorization: Bearer sk_test_...`", code="missing_api_key"
        )
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationFailed("Use `Authorization: Bearer <secret key>`")
    with session_scope(readonly=True) as db:
        key = api_keys.authenticate(db, secret.strip())
    if key.stale_last_used:
        with session_scope() as db:
            api_keys.touch(db, key.api_key_id)
    return key


async def caller(request: Request) -> Caller:
    """FastAPI dependency: the authenticated, rate-limited caller."""
    key = await run_in_threadpool(_authenticate, request.headers.get("authorization"))
    _check_rate(key.api_key_id)
    return Caller(key, request.client.host if request.client else None)


CallerDep = Annotated[Caller, Depends(caller)]
Result = tuple[int, dict[str, Any]]


async def respond(request: Request, who: Caller, work: Callable[[], Result]) -> JSONResponse:
    """Run a mutating request once per Idempotency-Key; replay its stored response after."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await _run(work)

    engine = get_engine()
    digest = idempotency.request_digest(request.method, request.url.path, await request.body())
    started = await run_in_threadpool(
        lambda: idempotency.begin(
            engine,
            merchant_id=who.scope.merchant_id,
            livemode=who.scope.livemode,
            key=key,
            method=request.method,
            path=request.url.path,
            digest=digest,
        )
    )
    if isinstance(started, idempotency.Replay):
        return JSONResponse(
            json.loads(started.body),
            status_code=started.status,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = await _run(work)
    except BaseException:
        await run_in_threadpool(idempotency.release, engine, started)
        raise
    if response.status_code >= 500:  # a failure to retry, not an answer to keep
        await run_in_threadpool(idempotency.release, engine, started)
    else:
        await run_in_threadpool(
            lambda: idempotency.complete(
                engine, started, status=response.status_code, body=response.body.decode()
            )
        )
    return response


async def _run(work: Callable[[], Result]) -> JSONResponse:
    try:
        status, body = await run_in_threadpool(work)
    except ServiceError as exc:
        return service_error_response(exc)
    return JSONResponse(body, status_code=status)
