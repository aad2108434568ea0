"""What every merchant API request goes through: the API key, the rate limit, idempotency."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from backend.api.responses import JSONResponse
from backend.core.config import get_settings
from backend.core.db import get_engine, session_scope
from backend.core.errors import AuthenticationFailed, RateLimited, ServiceError
from backend.core.group_commit import committer_for
from backend.models.enums import ActorType
from backend.services import idempotency
from backend.services.context import Actor, Scope
from backend.services.identity import api_keys

from .errors import service_error_response


class Caller:
    """An authenticated API key: whose data it sees and who it is in the audit log."""

    def __init__(self, key: api_keys.KeyContext, ip: str | None) -> None:
        self.key = key
        self.scope = Scope(key.merchant_id, key.livemode)
        self.actor = Actor(ActorType.API_KEY, key.api_key_id, ip)


class _ProcessStorage(MemoryStorage):
    """limits' in-process storage, with its clean-up thread started at most once a second.

    MemoryStorage reads expiry lazily (a counter past its expiry reads as 0); its timer only
    drops dead keys, yet it starts a new 10 ms timer thread whenever the last one has ended: under
    load, a thread start every few requests. One sweep a second frees the same memory.
    """

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the name-mangled method
        if not self.timer.is_alive():
            self.timer = threading.Timer(1.0, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
            self.timer.daemon = True
            self.timer.start()


@lru_cache
def _limiter() -> tuple[SlidingWindowCounterRateLimiter, Any]:
    settings = get_settings()
    # Shared across workers through Redis when it is configured, per process otherwise.
    storage = storage_from_string(settings.redis_url) if settings.redis_url else _ProcessStorage()
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


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(
            "No API key given: send `Authorization: Bearer sk_test_...`", code="missing_api_key"
        )
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationFailed("Use `Authorization: Bearer <secret key>`")
    return secret.strip()


def _authenticate(authorization: str | None) -> api_keys.KeyContext:
    """The key's context, through this worker's key cache (a database read when not cached)."""
    key = api_keys.authenticate_cached(_bearer(authorization))
    if key.stale_last_used:
        with session_scope() as db:
            api_keys.touch(db, key.api_key_id)
    return key


async def caller(request: Request) -> Caller:
    """FastAPI dependency: the authenticated, rate-limited caller."""
    authorization = request.headers.get("authorization")
    try:
        # A cached key needs no database: answered here, without a trip to the thread pool.
        key = api_keys.authenticate_cached_only(_bearer(authorization))
    except api_keys.NotCached:
        key = await run_in_threadpool(_authenticate, authorization)
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


AtomicWork = Callable[[Session], Result]


async def respond_atomic(request: Request, who: Caller, work: AtomicWork) -> JSONResponse:
    """Run a mutating request in one unit of work with its Idempotency-Key record.

    The key is claimed, the work done and its answer stored in one transaction: the change and
    the answer that describes it are committed together. A refusal (a ServiceError: 404, 409,
    422...) rolls the work back and is then stored on its own, so a retry gets the same answer;
    a server error (5xx) stores nothing. On SQLite the unit runs on the process's group-commit
    writer (backend.core.group_commit), elsewhere in one trip to the thread pool.
    """
    key = request.headers.get("idempotency-key")
    digest = (
        None
        if key is None
        else idempotency.request_digest(request.method, request.url.path, await request.body())
    )
    unit = AtomicUnit(request.method, request.url.path, who, key, digest, work)
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        return await committer_for(engine).run(unit.answer, unit.refused)
    return await run_in_threadpool(unit.alone)


@dataclass(frozen=True)
class AtomicUnit:
    """One mutating request's unit of work (see respond_atomic)."""

    method: str
    path: str
    who: Caller
    key: str | None
    digest: str | None
    work: AtomicWork

    def answer(self, db: Session) -> JSONResponse:
        """Claim the key, do the work, keep its answer, in db's transaction. A refusal
        escapes as its ServiceError: the caller rolls the work back, then calls `refused`."""
        if self.key is None or self.digest is None:
            status, body = self.work(db)
            return JSONResponse(body, status_code=status)
        started = idempotency.claim(db, **self._identity(), digest=self.digest)
        if isinstance(started, idempotency.Replay):
            return JSONResponse(
                json.loads(started.body),
                status_code=started.status,
                headers={"Idempotent-Replayed": "true"},
            )
        status, body = self.work(db)
        response = JSONResponse(body, status_code=status)
        idempotency.finish(db, started, status=status, body=response.body.decode())
        return response

    def refused(self, db: Session, exc: Exception) -> JSONResponse:
        """The answer to a refusal, kept under the key in db's transaction so that a retry
        gets it too. Anything but a ServiceError is re-raised."""
        if not isinstance(exc, ServiceError):
            raise exc
        refused = service_error_response(exc)
        if self._keeps(exc):
            assert self.key is not None and self.digest is not None
            idempotency.store(
                db,
                **self._identity(),
                digest=self.digest,
                status=refused.status_code,
                body=refused.body.decode(),
            )
        return refused

    def alone(self) -> JSONResponse:
        """The unit in a transaction of its own (and the refusal in another)."""
        try:
            with session_scope() as db:
                return self.answer(db)
        except ServiceError as exc:
            if not self._keeps(exc):
                return service_error_response(exc)
            with session_scope() as db:
                return self.refused(db, exc)

    def _keeps(self, exc: ServiceError) -> bool:
        return (
            self.key is not None
            and self.digest is not None
            and exc.status < 500
            and not _is_idempotency_refusal(exc)
        )

    def _identity(self) -> dict[str, Any]:
        return {
            "merchant_id": self.who.scope.merchant_id,
            "livemode": self.who.scope.livemode,
            "key": self.key,
            "method": self.method,
            "path": self.path,
        }


def _is_idempotency_refusal(exc: ServiceError) -> bool:
    """The key itself was refused (malformed, in use, reused): nothing to keep under it."""
    return exc.param == "Idempotency-Key"


async def _run(work: Callable[[], Result]) -> JSONResponse:
    try:
        status, body = await run_in_threadpool(work)
    except ServiceError as exc:
        return service_error_response(exc)
    return JSONResponse(body, status_code=status)
