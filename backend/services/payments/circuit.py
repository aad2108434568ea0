"""A circuit breaker per processor account and mode, shared by every worker through the database.

A processor that keeps failing *without being reached* (refused connection, rate limit, our
credentials refused: a `GatewayUnavailable` whose `outcome_unknown` is False) opens its circuit
after FAILURES_TO_OPEN such failures within WINDOW; routing then skips it without trying it for
COOL_DOWN, and afterwards lets one payment through as a trial (half-open): an answer of any kind
(a success, a decline) closes the circuit, another failure opens it for a new cool-down. A
failure after which the processor may have acted (timeout, reset, 5xx) says nothing about
whether it can be reached and is not counted: that payment stays with that processor anyway.

The state lives in Redis when REDIS_URL is set (a hash per processor account and mode, changed
by Lua scripts, so each change is atomic across workers and needs no database write), else in
`processor_circuits` (migration 0028), one row per processor account and mode
(`processor_key`: the configuration's id, or the gateway's name for the platform's own
account). Each worker reads it through a TTLMemo (CACHE_TTL_SECONDS, 2 s by default): a
circuit opened by another worker is seen within that time; one opened here at once. Writes only
happen on failures and on the first answer after them, never on a healthy processor's payments.

Where the database's writes go: on PostgreSQL a short transaction of its own, committed at
once, so the payment's transaction never holds the circuit's row lock across a processor call
and a failure is counted even if the payment's transaction is rolled back. On SQLite (one
writer: the caller already holds the write lock, and a second connection would wait for it
forever) the caller's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import URL, create_engine, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from backend.core.config import get_settings
from backend.core.ttl_cache import TTLMemo
from backend.models import ProcessorCircuit, utcnow

FAILURES_TO_OPEN = 5
WINDOW = timedelta(seconds=60)
COOL_DOWN = timedelta(seconds=30)
# A trial that neither answered nor failed (its worker died, or the outcome is unknown) gives
# way to another trial after this long.
TRIAL_TIMEOUT = timedelta(seconds=30)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _sharing_errors() -> tuple[type[Exception], ...]:
    from redis import RedisError
    from sqlalchemy.exc import OperationalError

    return (RedisError, OperationalError)


# What a breaker's bookkeeping may raise when Redis or the database cannot be reached: routing
# then carries on as without a breaker (a payment never fails because its circuit could not be
# read or written).
SHARING_ERRORS = _sharing_errors()


@dataclass(frozen=True)
class Circuit:
    """One processor's circuit as read from the database (a closed one when there is no row)."""

    state: str = CLOSED
    failures: int = 0
    window_started_at: datetime | None = None
    opened_at: datetime | None = None
    trial_started_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def healthy(self) -> bool:
        return self.state == CLOSED and self.failures == 0


@dataclass(frozen=True)
class Admission:
    """Whether routing may try the processor now; `note` says why not, or that it is a trial."""

    allowed: bool
    note: str | None = None
    trial: bool = False


def circuit_id(processor_key: str, livemode: bool) -> str:
    return f"{int(livemode)}:{processor_key}"


_CIRCUITS: TTLMemo[Circuit] = TTLMemo("processor_circuits")


def _of(row: ProcessorCircuit | None) -> Circuit:
    if row is None:
        return Circuit()
    return Circuit(
        row.state,
        row.failures,
        row.window_started_at,
        row.opened_at,
        row.trial_started_at,
        row.last_error,
        row.last_error_at,
    )


def read(db: Session, processor_key: str, livemode: bool) -> Circuit:
    key = circuit_id(processor_key, livemode)
    redis = _redis()
    if redis is not None:
        return _CIRCUITS.get(key, lambda: _from_hash(redis.hgetall(redis_key(key))))
    return _CIRCUITS.get(key, lambda: _of(db.get(ProcessorCircuit, key)))


def read_fresh(db: Session, keys: list[str], livemode: bool) -> dict[str, Circuit]:
    """The circuits of several processors straight from where they are shared (the Processors
    page)."""
    ids = {circuit_id(k, livemode): k for k in keys}
    if not ids:
        return {}
    redis = _redis()
    if redis is not None:
        pipe = redis.pipeline(transaction=False)
        for key in ids:
            pipe.hgetall(redis_key(key))
        return {ids[key]: _from_hash(found) for key, found in zip(ids, pipe.execute(), strict=True)}
    rows = db.exec(select(ProcessorCircuit).where(ProcessorCircuit.id.in_(list(ids)))).all()  # type: ignore[attr-defined]
    found = {ids[row.id]: _of(row) for row in rows}
    return {k: found.get(k, Circuit()) for k in keys}


def admit(db: Session, processor_key: str, livemode: bool, label: str) -> Admission:
    """May routing try this processor for a payment now?"""
    circuit = read(db, processor_key, livemode)
    if circuit.state == CLOSED:
        return Admission(True)
    now = utcnow()
    cooled = circuit.opened_at is not None and now >= circuit.opened_at + COOL_DOWN
    trial_stale = (
        circuit.trial_started_at is None or now >= circuit.trial_started_at + TRIAL_TIMEOUT
    )
    due = (circuit.state == OPEN and cooled) or (circuit.state == HALF_OPEN and trial_stale)
    if due and _claim_trial(db, processor_key, livemode, now):
        return Admission(True, f"trial after a cool-down: {label} was unreachable", True)
    return Admission(False, f"{label}: {describe(circuit, now)}")


def failed(db: Session, processor_key: str, livemode: bool, error: str) -> Circuit:
    """The processor could not be reached: count it, and open the circuit when it keeps on."""
    key = circuit_id(processor_key, livemode)
    now = utcnow()
    redis = _redis()
    if redis is not None:
        found = _FAILED(
            keys=[redis_key(key)],
            args=[_ms(now), _ms_of(WINDOW), FAILURES_TO_OPEN, error[:500]],
            client=redis,
        )
        circuit = _from_hash(dict(zip(found[::2], found[1::2], strict=True)))
        _CIRCUITS.put(key, circuit)
        return circuit
    with _writing(db) as side:
        row = _locked_row(side, key, processor_key, livemode)
        if row.state == HALF_OPEN or (row.state == OPEN and row.opened_at is None):
            row.state, row.opened_at, row.trial_started_at = OPEN, now, None
        elif row.state == CLOSED:
            fresh = row.window_started_at is None or now - row.window_started_at > WINDOW
            row.failures = 1 if fresh else row.failures + 1
            if fresh:
                row.window_started_at = now
            if row.failures >= FAILURES_TO_OPEN:
                row.state, row.opened_at, row.trial_started_at = OPEN, now, None
        row.last_error, row.last_error_at, row.updated_at = error[:500], now, now
        side.add(row)
        side.flush()
        circuit = _of(row)
    _CIRCUITS.put(key, circuit)
    return circuit


def answered(db: Session, processor_key: str, livemode: bool) -> None:
    """The processor answered (whatever it said): it can be reached, so its circuit closes."""
    if read(db, processor_key, livemode).healthy:
        return  # the common case writes nothing
    key = circuit_id(processor_key, livemode)
    now = utcnow()
    redis = _redis()
    if redis is not None:
        _ANSWERED(keys=[redis_key(key)], client=redis)
        _CIRCUITS.forget(key)
        return
    with _writing(db) as side:
        side.exec(
            update(ProcessorCircuit)
            .where(ProcessorCircuit.id == key)  # type: ignore[arg-type]
            .values(
                state=CLOSED,
                failures=0,
                window_started_at=None,
                opened_at=None,
                trial_started_at=None,
                updated_at=now,
            )
        )
        side.flush()
    _CIRCUITS.forget(key)


def _claim_trial(db: Session, processor_key: str, livemode: bool, now: datetime) -> bool:
    """One worker, one payment wins the trial: a conditional UPDATE, counted."""
    key = circuit_id(processor_key, livemode)
    redis = _redis()
    if redis is not None:
        won = _CLAIM(
            keys=[redis_key(key)],
            args=[_ms(now), _ms_of(COOL_DOWN), _ms_of(TRIAL_TIMEOUT)],
            client=redis,
        )
        _CIRCUITS.forget(key)
        return bool(won)
    column = ProcessorCircuit
    with _writing(db) as side:
        result = side.exec(
            update(ProcessorCircuit)
            .where(
                column.id == key,  # type: ignore[arg-type]
                (
                    (column.state == OPEN) & (column.opened_at <= now - COOL_DOWN)  # type: ignore[operator]
                )
                | (
                    (column.state == HALF_OPEN)
                    & (
                        column.trial_started_at.is_(None)  # type: ignore[union-attr]
                        | (column.trial_started_at <= now - TRIAL_TIMEOUT)  # type: ignore[operator]
                    )
                ),
            )
            .values(state=HALF_OPEN, trial_started_at=now, updated_at=now)
        )
        side.flush()
        won = result.rowcount == 1  # type: ignore[attr-defined]
    _CIRCUITS.forget(key)
    return won


def _locked_row(db: Session, key: str, processor_key: str, livemode: bool) -> ProcessorCircuit:
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    db.exec(
        insert(ProcessorCircuit)
        .values(
            id=key,
            processor_key=processor_key,
            livemode=livemode,
            state=CLOSED,
            failures=0,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    row = db.exec(
        select(ProcessorCircuit)
        .where(ProcessorCircuit.id == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return row


@contextmanager
def _writing(db: Session) -> Iterator[Session]:
    bind = db.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name != "postgresql" or isinstance(bind, Connection):
        yield db
        return
    with Session(_side_engine(engine.url), expire_on_commit=False) as side:
        yield side
        side.commit()


@lru_cache(maxsize=8)
def _side_engine(url: URL) -> Engine:
    """Connections for the circuits' own transactions, apart from the app's pool: a request
    already holds one of the app's connections, and with every thread of a worker busy a second
    one from the same pool would wait for a request to end, which waits for it. Opened per
    write (NullPool): writes are rare (failures and the first answer after them) and leave no
    idle connection behind."""
    return create_engine(url, poolclass=NullPool)


# ---------------------------------------------------------------------------------------------
# Redis: one hash per circuit, times in Unix milliseconds, each change one atomic script.

_FAILED_LUA = """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local now = tonumber(ARGV[1])
if state == 'half_open' then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now, 'trial_started_at', '')
elseif state == 'closed' then
  local started = tonumber(redis.call('HGET', KEYS[1], 'window_started_at') or '')
  local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '') or 0
  if started == nil or now - started > tonumber(ARGV[2]) then
    failures = 1
    started = now
  else
    failures = failures + 1
  end
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', failures,
             'window_started_at', started)
  if failures >= tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now, 'trial_started_at', '')
  end
end
redis.call('HSET', KEYS[1], 'last_error', ARGV[4], 'last_error_at', now)
redis.call('PEXPIRE', KEYS[1], 604800000)
return redis.call('HGETALL', KEYS[1])
"""

_CLAIM_LUA = """
local state = redis.call('HGET', KEYS[1], 'state')
local now = tonumber(ARGV[1])
local due = false
if state == 'open' then
  local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '')
  due = opened ~= nil and now >= opened + tonumber(ARGV[2])
elseif state == 'half_open' then
  local trial = tonumber(redis.call('HGET', KEYS[1], 'trial_started_at') or '')
  due = trial == nil or now >= trial + tonumber(ARGV[3])
end
if due then
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'trial_started_at', now)
  return 1
end
return 0
"""

_ANSWERED_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'window_started_at', '',
             'opened_at', '', 'trial_started_at', '')
end
return 1
"""


class _Script:
    """A Lua script registered once per client and run by its SHA (EVALSHA)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(self, *, keys: list[str], args: list[Any] | None = None, client: Any) -> Any:
        return client.register_script(self.source)(keys=keys, args=args or [])


_FAILED, _CLAIM, _ANSWERED = _Script(_FAILED_LUA), _Script(_CLAIM_LUA), _Script(_ANSWERED_LUA)


def _redis() -> Any:
    url = get_settings().redis_url
    return _redis_client(url) if url else None


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=2)


def redis_key(key: str) -> str:
    """The Redis hash holding one circuit (the benchmark clears its own)."""
    return f"payportal:circuit:{key}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_of(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _at(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC) if value else None


def _from_hash(found: dict[str, str]) -> Circuit:
    if not found:
        return Circuit()
    return Circuit(
        found.get("state") or CLOSED,
        int(found.get("failures") or 0),
        _at(found.get("window_started_at")),
        _at(found.get("opened_at")),
        _at(found.get("trial_started_at")),
        found.get("last_error") or None,
        _at(found.get("last_error_at")),
    )


def describe(circuit: Circuit, now: datetime | None = None) -> str:
    """The circuit in a merchant's words, for the Processors page and the payment's route reason."""
    now = now or utcnow()
    error = f" Last error: {circuit.last_error.rstrip('.')}." if circuit.last_error else ""
    window = int(WINDOW.total_seconds())
    if circuit.state == OPEN and circuit.opened_at is not None:
        left = max(0, int((circuit.opened_at + COOL_DOWN - now).total_seconds()))
        since = circuit.opened_at.strftime("%H:%M:%S UTC")
        retry = f"one trial payment in {left} s" if left else "one trial payment is due"
        return (
            f"Skipped since {since}, after it could not be reached {FAILURES_TO_OPEN} times in "
            f"{window} s; {retry}.{error}"
        )
    if circuit.state == HALF_OPEN:
        since = (circuit.trial_started_at or now).strftime("%H:%M:%S UTC")
        return f"On trial since {since}: one payment decides whether it is used again.{error}"
    if circuit.failures:
        times = "time" if circuit.failures == 1 else "times"
        return (
            f"Taking payments; could not be reached {circuit.failures} {times} in the last "
            f"{window} s (skipped for a while at {FAILURES_TO_OPEN}).{error}"
        )
    return "Taking payments."
