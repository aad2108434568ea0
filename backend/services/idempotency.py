"""Idempotency-Key handling for mutating API requests.

The first request with a key claims it (a row with no response yet), runs, and stores its
response. A retry with the same key and the same request gets the stored response back for 24
hours; the same key with a different request is refused. While the first request still runs,
a concurrent retry is told to wait (409), so N simultaneous requests with one key do the work
exactly once. A claim left behind by a crashed process can be taken over after a minute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from backend.db import session_scope
from backend.ids import new_id
from backend.models import IdempotencyKey, utcnow
from backend.services.errors import Conflict, ValidationFailed

RETENTION = timedelta(hours=24)
STALE_CLAIM = timedelta(seconds=60)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


@dataclass(frozen=True)
class Claim:
    record_id: str


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def validate_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            param="Idempotency-Key",
        )
    return key


def begin(
    engine: Engine,
    *,
    merchant_id: str,
    livemode: bool,
    key: str,
    method: str,
    path: str,
    digest: str,
) -> Replay | Claim:
    """Claim the key for this request, or say what to answer instead."""
    validate_key(key)
    now = utcnow()
    record = IdempotencyKey(
        id=new_id("idk"),
        merchant_id=merchant_id,
        livemode=livemode,
        key=key,
        method=method,
        path=path,
        request_digest=digest,
        created_at=now,
        expires_at=now + RETENTION,
    )
    try:
        with session_scope(engine) as db:
            db.add(record)
        return Claim(record.id)
    except IntegrityError:
        pass

    with session_scope(engine) as db:
        existing = db.exec(
            select(IdempotencyKey)
            .where(
                IdempotencyKey.merchant_id == merchant_id,
                IdempotencyKey.livemode == livemode,
                IdempotencyKey.key == key,
            )
            .with_for_update()
        ).first()
        if existing is None:  # expired and purged between the two statements: claim afresh
            db.add(record)
            return Claim(record.id)
        if existing.expires_at <= now:
            db.delete(existing)
            db.flush()
            db.add(record)
            return Claim(record.id)
        if (existing.method, existing.path, existing.request_digest) != (method, path, digest):
            raise Conflict(
                "This Idempotency-Key was already used with a different request; "
                "use a new key for a new request",
                code="idempotency_key_reused",
                param="Idempotency-Key",
            )
        if existing.response_status is not None:
            return Replay(existing.response_status, existing.response_body or "")
        if now - existing.created_at < STALE_CLAIM:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly",
                code="idempotency_key_in_use",
                param="Idempotency-Key",
            )
        existing.created_at = now  # the first attempt died: this one takes over
        db.add(existing)
        return Claim(existing.id)


def complete(engine: Engine, claim: Claim, *, status: int, body: str) -> None:
    with session_scope(engine) as db:
        db.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == claim.record_id)
            .values(response_status=status, response_body=body)
        )


def release(engine: Engine, claim: Claim) -> None:
    """Forget a claim whose request did not finish (an unexpected error), so it can be retried."""
    with session_scope(engine) as db:
        db.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim.record_id))


def purge_expired(engine: Engine) -> int:
    with session_scope(engine) as db:
        result = db.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
        return result.rowcount or 0
