"""Idempotency-Key handling for mutating API requests.

The first request with a key claims it (a row with no response yet), runs, and stores its
response. A retry with the same key and the same request gets the stored response back for 24
hours; the same key with a different request is refused. While the first request still runs,
a concurrent retry is told to wait (409), so N simultaneous requests with one key do the work
exactly once.

Two ways to use it:

- `claim` and `finish` work inside the caller's unit of work: the record is written in the
  same transaction as the request's own changes, so the payment and the answer that describes
  it are committed together, or neither is (a crash in between leaves nothing to take over,
  and the retry runs afresh, reaching the gateway with the same derived key). While that
  transaction runs, a duplicate is kept out by the uncommitted record itself on SQLite (one
  writer at a time) and by a transaction-level advisory lock on the key on PostgreSQL (taken
  without waiting, so the duplicate gets 409 at once and holds no connection).
- `begin`, `complete` and `release` each commit on their own, for work that commits by itself.
  A claim left behind by a crashed process can be taken over after a minute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.core import crypto
from backend.core.db import Prepared, new_instance, new_row, session_scope
from backend.core.errors import Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.models import IdempotencyKey, utcnow

RETENTION = timedelta(hours=24)
STALE_CLAIM = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
# The first key of PostgreSQL's two-key advisory locks taken on idempotency keys, so they cannot
# collide with another use of advisory locks; the second is a hash of merchant, mode and key.
ADVISORY_LOCK_SPACE = 0x1D3_4B


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
        return _settle(db, record, now)


def _settle(db: Session, record: IdempotencyKey, now: datetime) -> Replay | Claim:
    """The key is taken: replay, refuse, or take over what holds it (in db's transaction)."""
    existing = db.exec(
        select(IdempotencyKey)
        .where(
            IdempotencyKey.merchant_id == record.merchant_id,
            IdempotencyKey.livemode == record.livemode,
            IdempotencyKey.key == record.key,
        )
        .with_for_update()
    ).first()
    if existing is None:  # expired and purged between the two statements: claim afresh
        db.add(record)
        db.flush()
        return Claim(record.id)
    if existing.expires_at <= now:
        db.delete(existing)
        db.flush()
        db.add(record)
        db.flush()
        return Claim(record.id)
    if (existing.method, existing.path, existing.request_digest) != (
        record.method,
        record.path,
        record.request_digest,
    ):
        raise Conflict(
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new request",
            code="idempotency_key_reused",
            param="Idempotency-Key",
        )
    if existing.response_status is not None:
        return Replay(existing.response_status, _opened(existing.response_body))
    if now - existing.created_at < STALE_CLAIM:
        raise _in_use()
    existing.created_at = now  # the first attempt died: this one takes over
    db.add(existing)
    db.flush()
    return Claim(existing.id)


def _in_use() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly",
        code="idempotency_key_in_use",
        param="Idempotency-Key",
    )


# -- inside the caller's unit of work -----------------------------------------------------------

_TABLE = IdempotencyKey.__table__  # type: ignore[attr-defined]
# Written by `claim`; the response columns stay null until `finish`.
_CLAIM_COLUMNS = [c for c in _TABLE.c if c.name not in ("response_status", "response_body")]
_UNIQUE = ["merchant_id", "livemode", "key"]
_LOCK = func.pg_try_advisory_xact_lock(ADVISORY_LOCK_SPACE, func.hashtext(bindparam("lock_key")))
_STATEMENTS: dict[str, Prepared] = {}


def _claim_statement(dialect: str) -> Prepared:
    """INSERT the claim unless the key is taken: one statement, built once per dialect.

    PostgreSQL: the row is only offered when the key's advisory lock is free (taken without
    waiting), so a duplicate of a request still running never waits on its uncommitted row.
    """
    prepared = _STATEMENTS.get(dialect)
    if prepared is None:
        names = [c.name for c in _CLAIM_COLUMNS]
        if dialect == "postgresql":
            offered = sa_select(*(bindparam(c.name, type_=c.type) for c in _CLAIM_COLUMNS))
            statement = (
                postgresql.insert(_TABLE)
                .from_select(names, offered.where(_LOCK))
                .on_conflict_do_nothing(index_elements=_UNIQUE)
                .returning(_TABLE.c.id)
            )
            prepared = Prepared(statement)
        else:
            statement = (
                sqlite.insert(_TABLE)
                .on_conflict_do_nothing(index_elements=_UNIQUE)
                .returning(_TABLE.c.id)
            )
            prepared = Prepared(statement, names)
        _STATEMENTS[dialect] = prepared
    return prepared


def _lock_key(merchant_id: str, livemode: bool, key: str) -> str:
    return f"{merchant_id}:{int(livemode)}:{key}"


def claim(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    key: str,
    method: str,
    path: str,
    digest: str,
) -> Replay | Claim:
    """Claim the key in db's transaction (first statement of the request's unit of work), or
    say what to answer instead. The caller does the work, then calls `finish` before commit."""
    validate_key(key)
    now = utcnow()
    values = new_row(
        IdempotencyKey,
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
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        values["lock_key"] = _lock_key(merchant_id, livemode, key)
    if _claim_statement(dialect).run(db, values) is not None:  # binds the claim's columns
        return Claim(values["id"])
    if (
        dialect == "postgresql"
        and not db.execute(sa_select(_LOCK), {"lock_key": values["lock_key"]}).scalar()
    ):
        raise _in_use()  # the key's request is still running in another transaction
    values.pop("lock_key", None)
    return _settle(db, new_instance(IdempotencyKey, **values), now)


def _sealed(body: str) -> str:
    """Stored answers are encrypted at rest: some carry a secret shown once (a new webhook
    endpoint's signing secret), and a replay must not leave it readable in the table."""
    return crypto.seal(body)


def _opened(stored: str | None) -> str:
    if not stored:
        return ""
    if stored.startswith(crypto.SEALED_PREFIX):
        return crypto.unseal(stored)
    try:  # answers stored in the last 24 h by the release that used Fernet
        return crypto.decrypt(stored)
    except ValueError:
        return stored  # an answer stored before encryption


_ANSWER = Prepared(
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("record_id"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"))
)
_DROP = Prepared(delete(_TABLE).where(_TABLE.c.id == bindparam("record_id")))


def finish(db: Session, claim: Claim, *, status: int, body: str) -> None:
    """Store the answer with the work (committed together); a server error (5xx) is no answer
    to keep, so its claim is dropped and a retry runs afresh."""
    if status >= 500:
        _DROP.run(db, {"record_id": claim.record_id})
    else:
        _ANSWER.run(db, {"record_id": claim.record_id, "status": status, "body": _sealed(body)})


def store(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    key: str,
    method: str,
    path: str,
    digest: str,
    status: int,
    body: str,
) -> None:
    """Keep the answer of a request whose work was rolled back (a refusal such as 409 or
    422), in db's transaction: a retry gets the same refusal. Nothing is stored if another
    request took the key meanwhile."""
    started = claim(
        db,
        merchant_id=merchant_id,
        livemode=livemode,
        key=key,
        method=method,
        path=path,
        digest=digest,
    )
    if isinstance(started, Claim):
        finish(db, started, status=status, body=body)


def complete(engine: Engine, claim: Claim, *, status: int, body: str) -> None:
    with session_scope(engine) as db:
        db.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == claim.record_id)
            .values(response_status=status, response_body=_sealed(body))
        )


def release(engine: Engine, claim: Claim) -> None:
    """Forget a claim whose request did not finish (an unexpected error), so it can be retried."""
    with session_scope(engine) as db:
        db.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim.record_id))


def purge_expired(engine: Engine) -> int:
    with session_scope(engine) as db:
        result = db.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
        return result.rowcount or 0
