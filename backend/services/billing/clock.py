"""The billing engine's one clock, and test clocks (as Stripe's).

`now_for(db, test_clock_id)` is the only "now" billing reads: the frozen time of the test clock
an object lives on, else the real time (UTC). A test clock exists in test mode only; the
test-mode objects created on it (customers, and through them their subscriptions) live at its
time. Advancing it moves that time forward, never back, and runs what fell due on the way at
once (`engine.run_clock`), in the advance's transaction: if the engine fails, the clock has not
moved. The clock's row is locked meanwhile, so two advances of one clock run one after the
other (the second is refused unless its time is still ahead). Status is "ready" between
advances and "advancing" inside one (seen only by that transaction while the engine runs in
it).

Deleting a clock hides it (every read answers 404) but keeps its row, so the objects that point
at it stay valid; what becomes of them is the engine's (Stripe deletes them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.core.ids import new_id
from backend.models.billing import TestClock
from backend.models.enums import TestClockStatus
from backend.models.types import utcnow
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.paging import keyset_page
from backend.services.representations import timestamp

# Unix seconds a clock may be set to: 2000-01-01 to 2100-01-01 (UTC).
EARLIEST = 946_684_800
LATEST = 4_102_444_800
NAME_MAX = 300


class TestModeOnly(PermissionDenied):
    """Test clocks exist in test mode only (a live key is refused, 403)."""

    __test__ = False  # not a pytest test class, whatever its name
    code = "test_mode_only"


def now_for(db: Session, test_clock_id: str | None) -> datetime:
    """Billing's "now" for an object: its test clock's frozen time, else the real UTC time."""
    if test_clock_id is None:
        return utcnow()
    frozen = db.exec(select(TestClock.frozen_time).where(TestClock.id == test_clock_id)).first()
    if frozen is None:
        raise NotFound(f"No such test clock: {test_clock_id!r}", param="testClock")
    return frozen


def require_test_mode(scope: Scope) -> None:
    if scope.livemode:
        raise TestModeOnly(
            "Test clocks exist in test mode only: use a test key (sk_test_...) or the "
            "portal's test mode",
        )


def frozen_time_from(value: object, *, param: str = "frozenTime") -> datetime:
    """A clock time from Unix seconds (an integer from 2000 to 2100)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{param} must be a Unix time in whole seconds", param=param)
    if not EARLIEST <= value <= LATEST:
        raise ValidationFailed(
            f"{param} must be between {EARLIEST} (2000-01-01) and {LATEST} (2100-01-01)",
            param=param,
        )
    return datetime.fromtimestamp(value, UTC)


def create_clock(
    db: Session,
    scope: Scope,
    *,
    frozen_time: object,
    name: object = None,
    actor: Actor = SYSTEM,
) -> TestClock:
    """A new test clock at frozen_time (Unix seconds)."""
    require_test_mode(scope)
    if name is not None and (not isinstance(name, str) or len(name.strip()) > NAME_MAX):
        raise ValidationFailed(f"name must be text of at most {NAME_MAX} characters", param="name")
    clock = TestClock(
        id=new_id("clock"),
        merchant_id=scope.merchant_id,
        livemode=False,
        name=(name.strip() or None) if isinstance(name, str) else None,
        frozen_time=frozen_time_from(frozen_time),
    )
    db.add(clock)
    details = {"frozenTime": timestamp(clock.frozen_time)}
    audit.record_by(db, actor, "test_clock.created", clock, "test_clock", details)
    return clock


def get_clock(db: Session, scope: Scope, clock_id: str, *, lock: bool = False) -> TestClock:
    """One of the merchant's test clocks (not deleted); anyone else's id is not found."""
    require_test_mode(scope)
    query = select(TestClock).where(
        TestClock.id == clock_id,
        TestClock.merchant_id == scope.merchant_id,
        TestClock.livemode == scope.livemode,
        TestClock.deleted_at == None,  # noqa: E711  (SQL IS NULL)
    )
    if lock:
        query = query.with_for_update()
    clock = db.exec(query).first()
    if clock is None:
        raise NotFound(f"No such test clock: {clock_id!r}", param="clockId")
    return clock


def list_clocks(
    db: Session, scope: Scope, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[TestClock], str | None]:
    require_test_mode(scope)
    query = select(TestClock).where(
        TestClock.merchant_id == scope.merchant_id,
        TestClock.livemode == scope.livemode,
        TestClock.deleted_at == None,  # noqa: E711  (SQL IS NULL)
    )
    return keyset_page(db, scope, TestClock, query, limit, cursor)


def advance(
    db: Session, scope: Scope, clock_id: str, frozen_time: object, *, actor: Actor = SYSTEM
) -> TestClock:
    """Move the clock forward to frozen_time (Unix seconds, after its current time) and run
    what fell due meanwhile (engine.run_clock), all in db's transaction."""
    require_test_mode(scope)
    target = frozen_time_from(frozen_time)
    clock = get_clock(db, scope, clock_id, lock=True)
    previous = clock.frozen_time
    if target <= previous:
        raise ValidationFailed(
            f"frozenTime must be after the clock's time ({unix(clock)}): a clock never goes back",
            code="clock_cannot_go_back",
            param="frozenTime",
        )
    clock.frozen_time = target
    clock.status = TestClockStatus.ADVANCING
    db.add(clock)
    db.flush()
    from backend.services.billing import engine  # the engine reads time from here: import late

    engine.run_clock(db, clock, previous=previous)
    clock.status = TestClockStatus.READY
    clock.updated_at = utcnow()
    db.add(clock)
    details = {"from": timestamp(previous), "to": timestamp(clock.frozen_time)}
    audit.record_by(db, actor, "test_clock.advanced", clock, "test_clock", details)
    return clock


def delete_clock(db: Session, scope: Scope, clock_id: str, *, actor: Actor = SYSTEM) -> TestClock:
    clock = get_clock(db, scope, clock_id, lock=True)
    from backend.services.billing import engine

    engine.delete_clock_objects(db, clock)
    clock.deleted_at = clock.updated_at = utcnow()
    db.add(clock)
    audit.record_by(db, actor, "test_clock.deleted", clock, "test_clock")
    return clock


def unix(clock: TestClock) -> int:
    """The clock's frozen time in Unix seconds (as the API gives and takes it)."""
    return int(clock.frozen_time.timestamp())
