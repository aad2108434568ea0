"""The monthly statement, read from the ledger: per currency, the balance when a calendar month
of the merchant's time zone began, the month's balance transactions summed by type, and the
balance when it ended. One PDF (fpdf2: pure Python, Unicode TrueType fonts) and one CSV (the
summary, then every transaction of the month, streamed).

Why the ledger and not the dashboard's KPIs: the KPIs count a month's payments with their
refunds whenever issued, so a statement built on them never added up. Balance transactions are
dated when booked and never change amount, so a month's opening balance plus its activity is its
closing balance, and each month's closing is the next one's opening. `build` checks the first
against an independent sum and refuses to print a statement that does not add up.

Money held by a merchant's own processor (another `holder`) is summed with the platform's: a
statement is the merchant's whole balance per currency; `holders` says when more than one holds
it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_date, format_datetime
from fpdf import FPDF, FontFace
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from backend.core.currency import format_money, to_major
from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import BalanceTransaction, Merchant, Payment, utcnow
from backend.models.enums import PaymentStatus
from backend.services import labels
from backend.services.context import Scope
from backend.services.reporting import dashboard, periods
from backend.services.reporting.exports import safe_cell
from backend.services.reporting.pdf_text import add_font

# The lines' order on every statement: what came in, what it cost, what went back, what was
# paid out. A type missing here (a new one) is listed after these, never dropped.
LINE_ORDER: tuple[str, ...] = tuple(labels.BALANCE_TYPE_LINES)
OPENING, CLOSING = "Opening balance", "Closing balance"
BASIS = (
    "Every movement of your balance is counted in the month it was booked (its creation date, "
    "in your time zone), whether its funds are still pending or already available; payouts "
    "leave the balance when they are created. The closing balance is the opening balance plus "
    "the month's net, and is the next month's opening balance."
)
BATCH_SIZE = 1000
_BT = BalanceTransaction
CHECK_BUCKET = -1  # the bucket of the independent closing sum


class StatementMismatch(RuntimeError):
    """Opening + activity differs from the ledger's own sum at the month's end: a bug in the
    statement or the ledger, never something to print."""


@dataclass(frozen=True)
class Line:
    type: str
    count: int
    amount: int
    fee: int
    net: int

    @property
    def label(self) -> str:
        return labels.balance_line(self.type)


@dataclass(frozen=True)
class CurrencyStatement:
    currency: str
    opening: int
    lines: tuple[Line, ...]
    closing: int
    holders: int = 1
    successful_payments: int = 0
    failed_payments: int = 0

    @property
    def activity(self) -> int:
        return sum(line.net for line in self.lines)


@dataclass(frozen=True)
class Statement:
    merchant: Merchant
    month: date  # the first day
    period: periods.Period
    as_of: datetime  # the figures' end: the month's end, or now while the month runs
    currencies: list[CurrencyStatement]

    @property
    def complete(self) -> bool:
        return self.as_of >= self.period.end


@dataclass(frozen=True)
class CurrencySummary:
    currency: str
    opening: int
    closing: int
    transactions: int


@dataclass(frozen=True)
class MonthSummary:
    month: date
    complete: bool
    currencies: list[CurrencySummary] = field(default_factory=list)


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ValidationFailed("Give the month as YYYY-MM", param="month") from None
    if not 2000 <= first.year <= 2100:
        raise ValidationFailed("Give the month as YYYY-MM", param="month")
    return first


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_period(first: date, tz: str) -> periods.Period:
    """The calendar month starting on `first`, as whole local days of `tz`."""
    days = (_next_month(first) - first).days
    return periods.period_for("custom", tz, custom_from=first, custom_to=first.replace(day=days))


def _line_key(type_: str) -> tuple[int, str]:
    return (LINE_ORDER.index(type_) if type_ in LINE_ORDER else len(LINE_ORDER), type_)


def _bucketed(merchant_id: str, livemode: bool, bounds: Sequence[datetime]) -> sa.Select:  # type: ignore[type-arg]
    """Σ per currency, holder, type and bucket of the transactions created before bounds[-1]:
    bucket 0 is before bounds[0], bucket i is [bounds[i-1], bounds[i]). Unioned with the plain
    Σ net per currency and holder before bounds[-1] (bucket -1), in one statement, so the check
    reads the same snapshot as the figures."""
    created = col(_BT.created_at)
    mine = (_BT.merchant_id == merchant_id, _BT.livemode == livemode, created < bounds[-1])
    bucket = sa.case(*((created < b, i) for i, b in enumerate(bounds)), else_=len(bounds))
    # Grouped on an inner column, not the CASE itself: its parameters would be sent twice and
    # PostgreSQL would not see the two expressions as one.
    inner = (
        select(
            _BT.currency, _BT.holder, _BT.type, _BT.amount, _BT.fee, _BT.net, bucket.label("bucket")
        )
        .where(*mine)
        .subquery()
    )
    by_type = select(
        inner.c.currency,
        inner.c.holder,
        inner.c.type,
        inner.c.bucket,
        func.count(),
        func.sum(inner.c.amount),
        func.sum(inner.c.fee),
        func.sum(inner.c.net),
    ).group_by(inner.c.currency, inner.c.holder, inner.c.type, inner.c.bucket)
    check = (
        select(
            _BT.currency,
            _BT.holder,
            sa.cast(sa.literal(""), sa.String),
            sa.cast(sa.literal(CHECK_BUCKET), sa.Integer),
            func.count(),
            sa.cast(sa.literal(0), sa.BigInteger),
            sa.cast(sa.literal(0), sa.BigInteger),
            func.sum(_BT.net),
        )
        .where(*mine)
        .group_by(_BT.currency, _BT.holder)
    )
    return sa.union_all(by_type, check)  # type: ignore[return-value]


def _payment_counts(
    db: Session, merchant_id: str, livemode: bool, start: datetime, end: datetime
) -> dict[str, tuple[int, int]]:
    """(successful, failed) payments created in [start, end) per currency, for information."""
    rows = db.exec(
        select(
            Payment.currency,
            func.count().filter(col(Payment.status).in_(dashboard.SUCCESSFUL_STATUSES)),
            func.count().filter(Payment.status == PaymentStatus.FAILED),
        )
        .where(
            Payment.merchant_id == merchant_id,
            Payment.livemode == livemode,
            col(Payment.created_at) >= start,
            col(Payment.created_at) < end,
        )
        .group_by(Payment.currency)
    ).all()
    return {currency: (int(ok or 0), int(failed or 0)) for currency, ok, failed in rows}


def build(
    db: Session, merchant_id: str, livemode: bool, month: date, *, now: datetime | None = None
) -> Statement:
    """The month's statement per currency; raises StatementMismatch if it does not add up."""
    merchant = db.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    period = month_period(month, merchant.timezone)
    as_of = min(period.end, now or utcnow())
    end = max(as_of, period.start)  # a month still to come: nothing in it
    opening: dict[str, int] = defaultdict(int)
    check: dict[str, int] = defaultdict(int)
    holders: dict[str, set[str]] = defaultdict(set)
    lines: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for currency, holder, type_, bucket, count, amount, fee, net in db.execute(
        _bucketed(merchant_id, livemode, [period.start, end])
    ).all():
        if bucket == CHECK_BUCKET:
            check[currency] += int(net or 0)
            continue
        if bucket == 0:
            opening[currency] += int(net or 0)
            continue
        holders[currency].add(holder)
        sums = lines[currency].setdefault(type_, [0, 0, 0, 0])
        for i, value in enumerate((count, amount, fee, net)):
            sums[i] += int(value or 0)
    counts = _payment_counts(db, merchant_id, livemode, period.start, end)
    currencies: list[CurrencyStatement] = []
    for currency in sorted(set(opening) | set(lines)):
        if not opening[currency] and not lines[currency]:
            continue  # an old balance back at zero, and nothing this month
        rows = tuple(
            Line(type_, *lines[currency][type_]) for type_ in sorted(lines[currency], key=_line_key)
        )
        closing = opening[currency] + sum(line.net for line in rows)
        if closing != check[currency]:
            raise StatementMismatch(
                f"{merchant_id} {month:%Y-%m} {currency}: opening {opening[currency]} + "
                f"activity {closing - opening[currency]} != ledger {check[currency]}"
            )
        ok, failed = counts.get(currency, (0, 0))
        currencies.append(
            CurrencyStatement(
                currency,
                opening[currency],
                rows,
                closing,
                holders=max(1, len(holders[currency])),
                successful_payments=ok,
                failed_payments=failed,
            )
        )
    return Statement(merchant, month, period, as_of, currencies)


def recent_months(
    db: Session,
    merchant_id: str,
    livemode: bool,
    tz: str,
    *,
    count: int = 12,
    now: datetime | None = None,
) -> list[MonthSummary]:
    """Of the last `count` calendar months (this one included, so far), those with activity,
    newest first, each with its opening and closing balance per currency: one query."""
    now = now or utcnow()
    first = now.astimezone(periods.zone(tz)).date().replace(day=1)
    months = [first]
    while len(months) < count:
        months.insert(0, _previous_month(months[0]))
    starts = [month_period(m, tz).start for m in months]
    bounds = [*starts, max(starts[-1], min(month_period(first, tz).end, now))]
    # net[currency][bucket], transactions[currency][bucket]
    net: dict[str, list[int]] = defaultdict(lambda: [0] * (count + 1))
    seen: dict[str, list[int]] = defaultdict(lambda: [0] * (count + 1))
    for currency, _holder, _type, bucket, n, _amount, _fee, total in db.execute(
        _bucketed(merchant_id, livemode, bounds)
    ).all():
        if bucket == CHECK_BUCKET:
            continue
        net[currency][bucket] += int(total or 0)
        seen[currency][bucket] += int(n or 0)
    found: list[MonthSummary] = []
    running = {currency: sums[0] for currency, sums in net.items()}
    for i, month in enumerate(months, start=1):
        rows: list[CurrencySummary] = []
        for currency in sorted(net):
            opening = running[currency]
            running[currency] = closing = opening + net[currency][i]
            if seen[currency][i]:
                rows.append(CurrencySummary(currency, opening, closing, seen[currency][i]))
        if rows:
            found.append(MonthSummary(month, complete=i < count, currencies=rows))
    return found[::-1]


# ---------------------------------------------------------------------------------------------
# PDF


def render_pdf(statement: Statement, *, now: datetime | None = None) -> bytes:
    """One table per currency whose rows visibly add up: opening, each line, closing."""
    merchant = statement.merchant
    locale = merchant.locale
    pdf = FPDF(format="A4")
    pdf.set_title(f"Statement {statement.month:%Y-%m}")
    pdf.set_author("PayPortal")
    pdf.add_page()
    font = add_font(pdf)
    strong = FontFace(emphasis="BOLD" if font.has_bold else None)
    family = font.family
    text = font.text

    def money(amount: int, currency: str) -> str:
        return text(format_money(amount, currency, locale))

    month_name = format_date(statement.month, "LLLL y", locale=locale)
    zone = periods.zone(merchant.timezone)
    generated = format_datetime(
        (now or utcnow()).astimezone(zone), "medium", tzinfo=zone, locale=locale
    )

    pdf.set_font(family, size=18)
    pdf.cell(0, 10, text(merchant.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=12)
    title = f"Statement for {month_name}"
    if not statement.complete:
        title += " (month to date)"
    pdf.cell(0, 7, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    pdf.set_text_color(90, 90, 90)
    first = format_date(statement.month, "long", locale=locale)
    last = format_date(statement.period.day_list()[-1], "long", locale=locale)
    pdf.cell(
        0,
        5,
        text(f"{first} - {last} ({merchant.timezone}) · generated {generated}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 5, text(f"Account {merchant.id} · {merchant.support_email}"), new_x="LMARGIN")
    pdf.ln(10)
    pdf.set_text_color(0, 0, 0)

    if not statement.currencies:
        pdf.set_font(family, size=11)
        pdf.multi_cell(0, 6, text("No balance and no activity in this month."))
        return bytes(pdf.output())

    for cs in statement.currencies:
        currency = cs.currency
        pdf.set_font(family, size=13)
        pdf.cell(0, 8, currency, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=9)
        with pdf.table(
            col_widths=(62, 18, 37, 36, 37),
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
            line_height=6,
            headings_style=FontFace(emphasis=strong.emphasis, fill_color=(238, 238, 238)),
        ) as table:
            header = table.row()
            for heading in ("", "Count", "Amount", "Fees", "Net"):
                header.cell(heading)
            row = table.row()
            row.cell(OPENING)
            for _ in range(3):
                row.cell("")
            row.cell(money(cs.opening, currency))
            for line in cs.lines:
                row = table.row()
                row.cell(text(line.label))
                row.cell(f"{line.count:,}")
                row.cell(money(line.amount, currency))
                row.cell(money(-line.fee, currency) if line.fee else "")
                row.cell(money(line.net, currency))
            row = table.row()
            row.cell("Net activity in the month")
            row.cell(f"{sum(line.count for line in cs.lines):,}")
            row.cell("")
            row.cell("")
            row.cell(money(cs.activity, currency))
            row = table.row(style=strong)
            row.cell(CLOSING)
            for _ in range(3):
                row.cell("")
            row.cell(money(cs.closing, currency))
        pdf.ln(2)
        pdf.set_font(family, size=9)
        pdf.set_text_color(90, 90, 90)
        notes = [
            f"Payments created in the month: {cs.successful_payments:,} successful, "
            f"{cs.failed_payments:,} failed (for information; not part of the balance)."
        ]
        if cs.holders > 1:
            notes.append(
                "Includes the balance your own processor account holds and pays out to you."
            )
        pdf.multi_cell(0, 4.5, text(" ".join(notes)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(5)
    pdf.set_font(family, size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 4, text(BASIS))
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# CSV

SUMMARY_COLUMNS = ("currency", "line", "count", "amount", "fee", "net")
ITEM_COLUMNS = (
    "id",
    "created",
    "type",
    "description",
    "source",
    "amount",
    "fee",
    "net",
    "currency",
    "status",
    "available_on",
    "payout",
)


def summary_rows(statement: Statement) -> list[list[str]]:
    """The summary section: per currency, opening, each line and closing (major units)."""
    rows: list[list[str]] = []
    for cs in statement.currencies:

        def major(amount: int, currency: str = cs.currency) -> str:
            return str(to_major(amount, currency))

        rows.append([cs.currency, OPENING, "", "", "", major(cs.opening)])
        for line in cs.lines:
            rows.append(
                [
                    cs.currency,
                    line.label,
                    str(line.count),
                    major(line.amount),
                    major(line.fee),
                    major(line.net),
                ]
            )
        rows.append([cs.currency, CLOSING, "", "", "", major(cs.closing)])
    return rows


def _item(t: BalanceTransaction, tz: str) -> list[object]:
    zone = periods.zone(tz)

    def major(amount: int) -> str:
        return str(to_major(amount, t.currency))

    return [
        t.id,
        t.created_at.astimezone(zone).isoformat(timespec="seconds"),
        labels.balance_type(t.type),
        safe_cell(t.description or labels.balance_type(t.type)),
        t.source_id,
        major(t.amount),
        major(t.fee),
        major(t.net),
        t.currency,
        labels.status(t.status),
        t.available_on.astimezone(zone).date().isoformat(),
        t.payout_id or "",
    ]


def statement_csv(
    scope: Scope,
    month: date,
    *,
    batch_size: int = BATCH_SIZE,
    engine: Engine | None = None,
    now: datetime | None = None,
) -> Iterator[str]:
    """The month's summary, a blank line, then its transactions oldest first, as CSV text
    chunks. Each batch is its own short read (no transaction held while a client downloads);
    the items stop where the summary's figures stop (`as_of`), so the two agree."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    with session_scope(engine, readonly=True) as db:
        statement = build(db, scope.merchant_id, scope.livemode, month, now=now)
    tz = statement.merchant.timezone
    writer.writerow(SUMMARY_COLUMNS)
    writer.writerows(summary_rows(statement))
    writer.writerow([])
    writer.writerow(ITEM_COLUMNS)
    yield "\ufeff" + flush()  # the BOM makes Excel read UTF-8
    start, end = statement.period.start, max(statement.as_of, statement.period.start)
    after: tuple[datetime, str] | None = None
    while True:
        created = col(_BT.created_at)
        query = select(_BT).where(
            _BT.merchant_id == scope.merchant_id,
            _BT.livemode == scope.livemode,
            created >= start,
            created < end,
        )
        if after is not None:
            query = query.where(
                sa.or_(created > after[0], sa.and_(created == after[0], col(_BT.id) > after[1]))
            )
        with session_scope(engine, readonly=True) as db:
            batch = db.exec(query.order_by(created, col(_BT.id)).limit(batch_size)).all()
            writer.writerows(_item(t, tz) for t in batch)
        if batch:
            yield flush()
        if len(batch) < batch_size:
            return
        after = (batch[-1].created_at, batch[-1].id)
