"""The dashboard's running totals (backend/models/dashboard_totals.py): written here, in the
booking path's own transaction, and summed here for the dashboard.

Writing. Each figure is what the dashboard used to compute from the raw rows, kept as a sum:
a payment adds to the bucket of its created_at (counts by status; captured amount, net and fees
while it is captured), a booked refund to the bucket of its created_at, an opened dispute to
the bucket of its created_at. Every change is an increment (INSERT ... ON CONFLICT DO UPDATE
SET x = x + excluded.x), so concurrent bookings never lose one another's, and a status change
moves a payment's figures from its old cells to its new ones. booking.py calls:

- `payment_changed(db, payment, rows)` after it changed a payment: the difference between the
  figures of the payment as it was (as loaded or last flushed, or as last counted in this
  transaction) and as it is now. A payment being created (`rows` given) is counted whole when
  its row is written: `add_new_payments`, from NewRows.write.
- `refund_booked` / `refund_reversed` when a refund starts or stops counting against its
  payment; `dispute_opened` when a dispute is created.

Every increment locks its rows until the transaction ends: concurrent bookings of one merchant
and currency in the same quarter hour queue on them on PostgreSQL for the end of each other's
transaction (SQLite has one writer anyway). Rows are always written in key order, so two
transactions never wait for each other in a cycle through them.

Reading. `segment_sums` sums columns over consecutive time segments (a period, or each local
day of one) from the fewest cells: whole UTC days inside a segment, then hours, then quarter
hours at its edges, each cell lying inside exactly one segment. A 90-day chart reads about 90
day cells for a merchant on UTC and a few thousand hour and quarter cells for one on, say,
Asia/Kathmandu, however many payments there are.

`rebuild` recomputes a merchant's totals (or everyone's) from the raw rows: the demo seed and
the migration that creates the tables use it; running it twice gives the same rows.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import NO_VALUE
from sqlalchemy.sql.elements import ColumnElement

from backend.models import DashboardMethodTotal, DashboardTotal, Dispute, Payment, Refund
from backend.models.enums import PaymentStatus, RefundStatus
from backend.services.payments.state_machine import CAPTURED

QUARTER, HOUR, DAY = 900, 3_600, 86_400
SPANS = (QUARTER, HOUR, DAY)
# A payment the customer's bank accepted: captured, or authorized and waiting for capture.
SUCCESSFUL_STATUSES: tuple[PaymentStatus, ...] = (*CAPTURED, PaymentStatus.AUTHORIZED)
# A refund in these states counts (the dashboard has always counted pending ones).
COUNTED_REFUNDS = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)

TOTALS = DashboardTotal.__table__  # type: ignore[attr-defined]
METHODS = DashboardMethodTotal.__table__  # type: ignore[attr-defined]
KEY = ("merchant_id", "livemode", "currency", "bucket_seconds", "bucket_start")
FIGURES = (
    "payments",
    "successful",
    "failed",
    "captured",
    "gross",
    "net",
    "fees",
    "refunds",
    "refunded",
    "disputes",
    "disputed",
)
METHOD_KEY = (*KEY, "method", "brand")
METHOD_FIGURES = ("captured", "gross")
_REFUND, _DISPUTE = FIGURES.index("refunds"), FIGURES.index("disputes")
# The payment columns its figures depend on (status last changed by booking.move_payment).
_PAYMENT_COLUMNS = (
    "status",
    "amount_captured",
    "net_amount",
    "platform_fee",
    "gateway_fee",
    "payment_method_type",
    "card_brand",
)
_STASH = "dashboard_totals"  # InstanceState.info key: what this transaction counted last
_CAPTURED = frozenset(CAPTURED)
_SUCCESSFUL = frozenset(SUCCESSFUL_STATUSES)


# ---------------------------------------------------------------------------------------------
# Writing


class Increments:
    """Increments gathered in memory, written in one statement per table (key order, merged
    per cell, zeros left out)."""

    def __init__(self) -> None:
        self.totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(FIGURES))
        self.methods: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])

    def payment(self, payment: Payment, snapshot: tuple[Any, ...] | None, sign: int) -> None:
        """Add (sign 1) or take away (sign -1) the figures of a payment in this state."""
        if snapshot is None:
            return
        status, captured_amount, net, platform_fee, gateway_fee, method, brand = snapshot
        captured = status in _CAPTURED
        at = _instant(payment.created_at)
        cell = self.totals[(payment.merchant_id, payment.livemode, payment.currency, at)]
        for i, value in enumerate(
            (
                1,
                status in _SUCCESSFUL,
                status == PaymentStatus.FAILED,
                captured,
                captured_amount if captured else 0,
                net if captured else 0,
                platform_fee + gateway_fee if captured else 0,
            )
        ):
            cell[i] += sign * int(value)
        if captured:
            key = (payment.merchant_id, payment.livemode, payment.currency, at, method, brand or "")
            by_method = self.methods[key]
            by_method[0] += sign
            by_method[1] += sign * captured_amount

    def money(self, row: Refund | Dispute, first: int, sign: int) -> None:
        """A refund's or a dispute's count and amount (columns first, first + 1)."""
        cell = self.totals[(row.merchant_id, row.livemode, row.currency, _instant(row.created_at))]
        cell[first] += sign
        cell[first + 1] += sign * row.amount

    def write(self, connection: Connection) -> None:
        _upsert(connection, TOTALS, KEY, FIGURES, _cells(self.totals, 3))
        _upsert(connection, METHODS, METHOD_KEY, METHOD_FIGURES, _cells(self.methods, 3))


def add_new_payments(connection: Connection, payments: Iterable[Payment]) -> None:
    """Count payments whose rows are being inserted (NewRows.write), as they are now."""
    increments = Increments()
    for payment in payments:
        increments.payment(payment, _snapshot_of(payment), 1)
    increments.write(connection)


def payment_changed(db: OrmSession, payment: Payment, rows: object | None = None) -> None:
    """Move a payment's figures from where it was last counted to where it is now.

    `rows` (a NewRows) is given for a payment being created: add_new_payments counts it when
    its row is written. Otherwise the before-state is what this transaction counted last
    (several moves before a flush), else the values loaded or last flushed (SQLAlchemy's
    attribute history), else, for a column expired and set without being read, the row.
    """
    if rows is not None:
        return
    state = sa.inspect(payment)
    transaction = _innermost(db)
    counted = state.info.get(_STASH)
    before = counted[1] if counted and counted[0] is transaction else _before(db, payment)
    now = _snapshot_of(payment)
    state.info[_STASH] = (transaction, now)
    if before == now:
        return
    increments = Increments()
    increments.payment(payment, before, -1)
    increments.payment(payment, now, 1)
    increments.write(db.connection())


def refund_booked(db: OrmSession, refund: Refund) -> None:
    """A refund counts from now on (booked pending or succeeded)."""
    _money(db, refund, _REFUND, 1)


def refund_reversed(db: OrmSession, refund: Refund) -> None:
    """A booked refund failed or was canceled: it no longer counts."""
    _money(db, refund, _REFUND, -1)


def dispute_opened(db: OrmSession, dispute: Dispute) -> None:
    """A dispute counts, whatever its outcome, from its creation on."""
    _money(db, dispute, _DISPUTE, 1)


def _money(db: OrmSession, row: Refund | Dispute, first: int, sign: int) -> None:
    increments = Increments()
    increments.money(row, first, sign)
    increments.write(db.connection())


def _snapshot_of(payment: Payment) -> tuple[Any, ...]:
    return tuple(getattr(payment, name) for name in _PAYMENT_COLUMNS)


def _before(db: OrmSession, payment: Payment) -> tuple[Any, ...] | None:
    """The payment's values as its row holds them in this transaction (None: no row yet)."""
    state = sa.inspect(payment)
    if not state.has_identity:
        return None  # added to the session but never flushed: nothing was counted for it
    values: list[Any] = []
    for name in _PAYMENT_COLUMNS:
        history = state.attrs[name].history
        if history.deleted:
            values.append(history.deleted[0])
        elif history.unchanged:
            values.append(history.unchanged[0])
        elif state.committed_state.get(name, NO_VALUE) is NO_VALUE and history.added:
            # Expired, then set without being read: the row still has what was counted.
            table = Payment.__table__  # type: ignore[attr-defined]
            row = db.connection().execute(
                sa.select(*(table.c[c] for c in _PAYMENT_COLUMNS)).where(table.c.id == payment.id)
            )
            found = row.first()
            return None if found is None else tuple(found)
        else:
            values.append(getattr(payment, name))
    return tuple(values)


def _innermost(db: OrmSession) -> object | None:
    return db.get_nested_transaction() or db.get_transaction()


@sa.event.listens_for(OrmSession, "before_flush")
def _remember_before_flush(db: OrmSession, _context: object, _instances: object) -> None:
    """A flush (an autoflush before any query the booking runs, such as the ledger's) erases
    the attribute history `_before` reads: keep what a changed payment was counted as first."""
    transaction = _innermost(db)
    for obj in db.dirty:
        if isinstance(obj, Payment):
            state = sa.inspect(obj)
            counted = state.info.get(_STASH)
            if not (counted and counted[0] is transaction):
                state.info[_STASH] = (transaction, _before(db, obj))


def _instant(at: datetime) -> int:
    """Seconds since the epoch, floored (as SQL's strftime('%s') and floor(epoch) give)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() // 1)


def _cells(
    increments: dict[tuple[Any, ...], list[int]], at_index: int
) -> list[tuple[tuple[Any, ...], list[int]]]:
    """The increments of each instant spread over its quarter hour, hour and day, merged per
    cell, zeros dropped, in key order."""
    merged: dict[tuple[Any, ...], list[int]] = {}
    for key, values in increments.items():
        if not any(values):
            continue
        at = key[at_index]
        for span in SPANS:
            cell = (*key[:at_index], span, at - at % span, *key[at_index + 1 :])
            into = merged.get(cell)
            if into is None:
                merged[cell] = list(values)
            else:
                for i, value in enumerate(values):
                    into[i] += value
    return sorted((k, v) for k, v in merged.items() if any(v))


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _upsert(
    connection: Connection,
    table: sa.Table,
    key: Sequence[str],
    figures: Sequence[str],
    cells: list[tuple[tuple[Any, ...], list[int]]],
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET figure = figure + excluded.figure, one
    statement (built once per dialect) executed for every cell."""
    if not cells:
        return
    dialect = connection.dialect.name
    statement = _STATEMENTS.get((dialect, table.name))
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        base = insert(table)
        statement = base.on_conflict_do_update(
            index_elements=[table.c[k] for k in key],
            set_={f: table.c[f] + base.excluded[f] for f in figures},
        )
        _STATEMENTS[(dialect, table.name)] = statement
    names = (*key, *figures)
    connection.execute(statement, [dict(zip(names, (*k, *v), strict=True)) for k, v in cells])


# ---------------------------------------------------------------------------------------------
# Reading

# Cells fetched by key (IN) rather than as ranges when a level's cells are scattered.
_MAX_RANGES = 4


def segment_sums(
    connection: Connection,
    table: sa.Table,
    *,
    merchant_id: str,
    livemode: bool,
    currencies: Sequence[str],
    boundaries: Sequence[int],
    figures: Sequence[str],
    by: Sequence[str] = (),
) -> dict[tuple[Any, ...], list[int]]:
    """The sums of `figures` over each segment [boundaries[i], boundaries[i + 1]) (seconds
    since the epoch, increasing, multiples of 900), per value of the `by` columns.

    Returns {(segment index, *by values): sums}; a segment with no cells is absent. Each level
    (day, hour, quarter hour) contributes the cells inside the range whose parent has a
    boundary strictly inside it, so every quarter hour of the range is counted exactly once,
    in the one segment it lies in. One statement: a SELECT per level, UNION ALL.
    """
    if any(b % QUARTER for b in boundaries):
        raise ValueError("segment boundaries must be whole quarter hours")
    if len(boundaries) < 2 or not currencies:
        return {}
    plan = _plan(boundaries)
    c = table.c
    segment = sa.literal_column(_segment_sql(boundaries, f"{table.name}.bucket_start"))
    scope = [c.merchant_id == merchant_id, c.livemode == livemode]
    if len(currencies) == 1:
        scope.append(c.currency == currencies[0])
    else:
        scope.append(c.currency.in_(list(currencies)))
    selects = []
    for span, ranges, excluded in plan:
        for where in _cells_conditions(c.bucket_start, span, ranges, excluded):
            selects.append(
                sa.select(
                    segment.label("segment"),
                    *(c[name] for name in by),
                    *(sa.func.sum(c[f]) for f in figures),
                )
                .where(*scope, c.bucket_seconds == span, where)
                .group_by(*(sa.literal_column(str(i + 1)) for i in range(1 + len(by))))
            )
    if not selects:
        return {}
    statement = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in connection.execute(statement):
        key = tuple(row[: 1 + len(by)])
        into = sums.setdefault(key, [0] * len(figures))
        for i, value in enumerate(row[1 + len(by) :]):
            into[i] += int(value or 0)
    return sums


def _segment_sql(boundaries: Sequence[int], column: str) -> str:
    """SQL giving the segment index of a cell from its start: the boundaries cut into runs of
    equal steps (a period's days; a 23- or 25-hour day of a clock change is a run of its own),
    each run i0 + (start - its first boundary) / its step. Integer literals we computed, not
    parameters: a CASE of a bound parameter per day costs more to build than the query."""
    runs: list[tuple[int, int, int]] = []  # (index of the first boundary, its instant, step)
    for i in range(len(boundaries) - 1):
        step = boundaries[i + 1] - boundaries[i]
        if not runs or runs[-1][2] != step:
            runs.append((i, boundaries[i], step))
    pieces = [f"{i} + ({column} - {start}) / {step}" for i, start, step in runs]
    if len(pieces) == 1:
        return pieces[0]
    whens = " ".join(
        f"WHEN {column} < {start} THEN {piece}"
        for piece, (_, start, _) in zip(pieces, runs[1:], strict=False)
    )
    return f"CASE {whens} ELSE {pieces[-1]} END"


def _plan(boundaries: Sequence[int]) -> list[tuple[int, list[tuple[int, int]], list[int]]]:
    """Per level (size), the ranges its cells are taken from and the cells left out: the days
    inside the range but those a boundary cuts; the hours of the cut days but those a boundary
    cuts; the quarter hours of the cut hours (never cut: boundaries are quarter hours)."""
    first, last = boundaries[0], boundaries[-1]
    broken = {span: sorted({b - b % span for b in boundaries if b % span}) for span in (HOUR, DAY)}
    return [
        (DAY, [(_ceil(first, DAY), last - last % DAY)], broken[DAY]),
        (HOUR, _within(broken[DAY], DAY, first, last), broken[HOUR]),
        (QUARTER, _within(broken[HOUR], HOUR, first, last), []),
    ]


def plan_cells(boundaries: Sequence[int]) -> list[tuple[int, int]]:
    """The (size, start) of every cell segment_sums reads for these boundaries (for tests)."""
    cells = []
    for span, ranges, excluded in _plan(boundaries):
        skip = set(excluded)
        for a, b in ranges:
            start, end = _ceil(a, span), b - b % span
            cells += [(span, s) for s in range(start, end, span) if s not in skip]
    return cells


def _ceil(at: int, span: int) -> int:
    return -(-at // span) * span


def _within(parents: list[int], parent_span: int, first: int, last: int) -> list[tuple[int, int]]:
    """The parts of these parent cells inside [first, last), adjacent ones merged."""
    ranges: list[tuple[int, int]] = []
    for parent in parents:
        start, end = max(parent, first), min(parent + parent_span, last)
        if start >= end:
            continue
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _cells_conditions(
    column: Any, span: int, ranges: list[tuple[int, int]], excluded: list[int]
) -> list[ColumnElement[bool]]:
    """bucket_start's conditions (one SELECT each) for the cells of size `span` inside
    `ranges` (aligned to the size) but not in `excluded`: a range each (an OR of ranges is
    not walked as ranges by SQLite's planner), or the cells by key when they are scattered."""
    ranges = [(_ceil(a, span), b - b % span) for a, b in ranges]
    ranges = [(a, b) for a, b in ranges if a < b]
    inside = [e for e in excluded if any(a <= e < b for a, b in ranges)]
    if sum((b - a) // span for a, b in ranges) - len(inside) <= 0:
        return []
    if len(ranges) > _MAX_RANGES:
        skip = set(inside)
        return [column.in_([s for a, b in ranges for s in range(a, b, span) if s not in skip])]
    conditions = []
    for a, b in ranges:
        left_out = [e for e in inside if a <= e < b]
        if (b - a) // span > len(left_out):
            condition = sa.and_(column >= a, column < b)
            conditions.append(
                sa.and_(condition, column.not_in(left_out)) if left_out else condition
            )
    return conditions


def segment_of(boundaries: Sequence[int], at: int) -> int:
    """The index of the segment holding instant `at` (for callers mapping back)."""
    return bisect.bisect_right(boundaries, at) - 1


def currencies(connection: Connection, *, merchant_id: str, livemode: bool) -> list[str]:
    """The currencies the merchant has payments in, alphabetically: a seek per currency along
    the totals' primary key (a few dozen at most), not a scan of them."""
    c = TOTALS.c
    found: list[str] = []
    while True:
        query = sa.select(c.currency).where(c.merchant_id == merchant_id, c.livemode == livemode)
        if found:
            query = query.where(c.currency > found[-1])
        nxt = connection.execute(query.order_by(c.currency).limit(1)).scalar()
        if nxt is None:
            return found
        found.append(nxt)


# ---------------------------------------------------------------------------------------------
# Rebuilding


def rebuild(
    db: OrmSession | Connection, merchant_id: str | None = None, livemode: bool | None = None
) -> None:
    """Recompute the totals of one merchant (one mode, or both), or of everyone, from the raw
    payments, refunds and disputes: delete them, sum the quarter hours in SQL, roll them up to
    hours and days. Idempotent. For rows written outside the booking path (the demo seed, a
    migration); the caller makes sure no booking runs for them meanwhile."""
    if isinstance(db, OrmSession):
        db.flush()  # the rows the caller added are summed too
    connection = db.connection() if isinstance(db, OrmSession) else db
    for table in (TOTALS, METHODS):
        connection.execute(sa.delete(table).where(*_scope(table, merchant_id, livemode)))
    payments = Payment.__table__  # type: ignore[attr-defined]
    refunds = Refund.__table__  # type: ignore[attr-defined]
    disputes = Dispute.__table__  # type: ignore[attr-defined]
    p = payments.c
    captured = p.status.in_(list(CAPTURED))
    zero = sa.literal(0, sa.BigInteger)

    def when(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
        return sa.case((condition, value), else_=zero)

    def quarter(column: Any) -> ColumnElement[int]:
        seconds = _epoch(connection, column)
        return seconds - seconds % QUARTER

    def source(table: sa.Table, values: dict[str, Any], *where: Any) -> sa.Select[Any]:
        c = table.c
        columns = [
            c.merchant_id.label("merchant_id"),
            c.livemode.label("livemode"),
            c.currency.label("currency"),
            quarter(c.created_at).label("bucket_start"),
        ]
        columns += [(values.get(f, zero)).label(f) for f in FIGURES]
        return sa.select(*columns).where(*_scope(table, merchant_id, livemode), *where)

    everything = sa.union_all(
        source(
            payments,
            {
                "payments": sa.literal(1, sa.BigInteger),
                "successful": when(p.status.in_(list(SUCCESSFUL_STATUSES))),
                "failed": when(p.status == PaymentStatus.FAILED),
                "captured": when(captured),
                "gross": when(captured, p.amount_captured),
                "net": when(captured, p.net_amount),
                "fees": when(captured, p.platform_fee + p.gateway_fee),
            },
        ),
        source(
            refunds,
            {"refunds": sa.literal(1, sa.BigInteger), "refunded": refunds.c.amount},
            refunds.c.status.in_(list(COUNTED_REFUNDS)),
        ),
        source(disputes, {"disputes": sa.literal(1, sa.BigInteger), "disputed": disputes.c.amount}),
    ).subquery()
    keys = [everything.c.merchant_id, everything.c.livemode, everything.c.currency]
    connection.execute(
        sa.insert(TOTALS).from_select(
            [*KEY, *FIGURES],
            sa.select(
                *keys,
                sa.literal(QUARTER),
                everything.c.bucket_start,
                *(sa.func.sum(everything.c[f]) for f in FIGURES),
            ).group_by(*keys, everything.c.bucket_start),
        )
    )
    brand = sa.func.coalesce(p.card_brand, "")
    bucket = quarter(p.created_at)
    method_keys = [p.merchant_id, p.livemode, p.currency, bucket, p.payment_method_type, brand]
    connection.execute(
        sa.insert(METHODS).from_select(
            [*METHOD_KEY, *METHOD_FIGURES],
            sa.select(
                p.merchant_id,
                p.livemode,
                p.currency,
                sa.literal(QUARTER),
                bucket,
                p.payment_method_type,
                brand,
                sa.func.count(),
                sa.func.sum(p.amount_captured),
            )
            .where(*_scope(payments, merchant_id, livemode), captured)
            .group_by(*method_keys),
        )
    )
    for table, key, figures in ((TOTALS, KEY, FIGURES), (METHODS, METHOD_KEY, METHOD_FIGURES)):
        for child, span in ((QUARTER, HOUR), (HOUR, DAY)):
            c = table.c
            start = c.bucket_start - c.bucket_start % span
            others = [c[k] for k in key if k not in ("bucket_seconds", "bucket_start")]
            connection.execute(
                sa.insert(table).from_select(
                    [
                        *(k for k in key if k not in ("bucket_seconds", "bucket_start")),
                        "bucket_seconds",
                        "bucket_start",
                        *figures,
                    ],
                    sa.select(
                        *others,
                        sa.literal(span),
                        start,
                        *(sa.func.sum(c[f]) for f in figures),
                    )
                    .where(*_scope(table, merchant_id, livemode), c.bucket_seconds == child)
                    .group_by(*others, start),
                )
            )


def _scope(table: sa.Table, merchant_id: str | None, livemode: bool | None) -> list[Any]:
    where: list[Any] = []
    if merchant_id is not None:
        where.append(table.c.merchant_id == merchant_id)
    if livemode is not None:
        where.append(table.c.livemode == livemode)
    return where


def _epoch(connection: Connection, column: Any) -> ColumnElement[int]:
    """Whole seconds since the epoch of a stored UTC timestamp, in SQL."""
    if connection.dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)
    return sa.cast(sa.func.floor(sa.func.extract("epoch", column)), sa.BigInteger)
