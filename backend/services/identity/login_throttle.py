"""Sign-in throttling by network address, on top of the per-account lockout in sessions.py.

A few mistakes are free. After that each further failure from the same address makes the next
attempt wait twice as long (2 s, 4 s, 8 s ... at most a minute), and at LOCK_AT failures the
address is locked out for LOCK_DURATION. A quiet WINDOW without failures starts the count
afresh. Waiting is enforced by refusing early attempts with the time left, never by sleeping,
so an attacker cannot tie up server threads. IPv6 clients are counted per /64, the block a
single subscriber usually holds.

The counters live in the database (login_throttles), which every worker shares on PostgreSQL
and the single SQLite worker owns. A success does not reset the address's count: an attacker
who owns one account must not be able to wipe the slate between guesses at another.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from backend.core.errors import RateLimited
from backend.models import LoginThrottle, utcnow

FREE_FAILURES = 5
LOCK_AT = 20
LOCK_DURATION = timedelta(minutes=15)
WINDOW = timedelta(minutes=15)
MAX_DELAY = timedelta(seconds=60)


def throttle_key(ip_address: str | None) -> str | None:
    if not ip_address:
        return None
    try:
        ip = ipaddress.ip_address(ip_address.strip())
    except ValueError:
        return f"ip:{ip_address.strip()[:60]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


def delay_after(failures: int) -> timedelta:
    """How long the next attempt must wait after this many recent failures."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)), MAX_DELAY)


def _say(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"


def check(db: Session, ip_address: str | None, now: datetime | None = None) -> None:
    """RateLimited, with the time to wait, while this address must not try again."""
    key = throttle_key(ip_address)
    if key is None:
        return
    now = now or utcnow()
    row = db.get(LoginThrottle, key)
    if row is None or now - row.last_failure_at > WINDOW:
        return
    if row.locked_until and row.locked_until > now:
        seconds = int((row.locked_until - now).total_seconds()) + 1
        raise RateLimited(
            f"Too many failed sign-ins from your network. Try again in {_say(seconds)}.",
            retry_after=seconds,
            code="sign_in_locked",
        )
    ready_at = row.last_failure_at + delay_after(row.failures)
    if ready_at > now:
        seconds = int((ready_at - now).total_seconds()) + 1
        raise RateLimited(
            f"Too many failed sign-ins from your network. Wait {_say(seconds)} before trying "
            "again.",
            retry_after=seconds,
            code="sign_in_slowed",
        )


def record_failure(db: Session, ip_address: str | None, now: datetime | None = None) -> int:
    """Count one failed sign-in from this address; the number of recent failures."""
    key = throttle_key(ip_address)
    if key is None:
        return 0
    now = now or utcnow()
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.exec(
        insert(LoginThrottle)
        .values(key=key, failures=0, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = db.exec(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if now - row.last_failure_at > WINDOW or (row.locked_until and row.locked_until <= now):
        row.failures, row.locked_until = 0, None  # a fresh start after a quiet spell or a lock
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= LOCK_AT:
        row.locked_until = now + LOCK_DURATION
    db.add(row)
    return row.failures
