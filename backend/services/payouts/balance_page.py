"""The portal's Balance page and payout pages for a signed-in member, in words and money.

Anyone who may read the data (Permission.VIEW_DATA) sees the balance per currency, the next
payout, where it goes, the payouts and the balance transactions; only the owner
(Permission.MANAGE_PAYOUTS, checked again by creating/canceling/schedules) pays out, cancels and
sets the schedule. Everything comes back formatted in the merchant's locale and time zone, so
the state classes only put it on screen. Each function is one unit of work; a payout is sent on
the rail after the commit that booked it (creating.send), as the REST API does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_date, format_datetime, format_skeleton
from sqlmodel import Session, col, func, select

from backend.core.currency import format_money, normalise_currency, to_major
from backend.core.db import session_scope
from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.integrations import bank_payouts
from backend.models import BankAccount, Dispute, Refund
from backend.models.enums import (
    BalanceTransactionStatus,
    BalanceTransactionType,
    PayoutInterval,
    PayoutStatus,
)
from backend.models.ledger import PLATFORM, Balance, BalanceTransaction, Payout, PayoutSchedule
from backend.models.types import utcnow
from backend.services import labels, paging
from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer
from backend.services.merchant import bank_accounts
from backend.services.payments.money_input import parse_money
from backend.services.payouts import canceling, creating, reads, schedules, sync
from backend.services.payouts.authority import require_payout_authority
from backend.services.reporting.exports import safe_cell
from backend.services.reporting.periods import zone

BT = BalanceTransaction
PO = PayoutStatus
BANK_PAGE = "/settings/bank"
RECENT_PAYOUTS = 10
DETAIL_ROWS = 50  # a payout's page lists this many of its transactions; the CSV has them all
SCHEDULE_HORIZON_DAYS = 62  # the longest wait for a due day (monthly on the 31st)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
PARTIAL_NOTE = "A payout of part of your balance is not matched to transactions"
_ACH_RETURN = re.compile(r"R\d{2}")


@dataclass(frozen=True)
class CurrencyBalance:
    """One currency's card: its figures, the next payout and the schedule's settings."""

    currency: str
    available: str
    pending: str
    in_transit: str
    available_major: str  # what "Pay out" offers, as a form shows it ("12.50")
    next_payout: str  # "Tue, Jan 14, 2026 · about $120.00", "Manual payouts", or the bank prompt
    next_note: str  # e.g. "Below the minimum of $50.00: carried over", or ""
    needs_bank: bool  # the next payout waits for a verified bank account (link to BANK_PAGE)
    schedule: str  # "Daily", "Weekly on Friday", "Monthly on day 15", "Manual"
    interval: str  # the schedule's code, for the edit form
    weekly_anchor: int
    monthly_anchor: int
    minimum: str  # the minimum amount in major units for the form ("" for none)
    minimum_words: str  # "No minimum" or "At least $50.00"


@dataclass(frozen=True)
class BalancePage:
    currencies: list[CurrencyBalance]
    bank: str  # "First Platypus Bank · Checking ••0000", or ""
    can_pay_out: bool  # the owner (MANAGE_PAYOUTS)
    can_export: bool  # EXPORT_DATA: the CSV link
    testmode: bool  # test mode offers "Simulate a bank return"
    type_choices: list[list[str]] = field(default_factory=list)  # [[code, words]]


@dataclass(frozen=True)
class PayoutDetail:
    payout: dict[str, str]
    # What it paid out summed by type, in the statement's order: {"label", "count", "net"};
    # these few lines and `total` are what visibly add up to the payout.
    lines: list[dict[str, str]]
    transactions: list[dict[str, str]]  # the newest DETAIL_ROWS of them
    count: str  # "612 transactions" ("" when none)
    csv: str  # every one of them, as CSV
    total: str  # the paid-out transactions' nets added up ("" when none)
    adds_up: bool  # the total equals the payout
    note: str  # PARTIAL_NOTE for a partial payout, else ""
    can_cancel: bool
    can_simulate: bool


def require_view(viewer: Viewer) -> None:
    viewer.require(Permission.VIEW_DATA)


# -- the page ----------------------------------------------------------------------------


def balance_page(viewer: Viewer, *, now: datetime | None = None) -> BalancePage:
    """The balance cards, the next payout per currency and the account payouts go to."""
    require_view(viewer)
    now = now or utcnow()
    scope = viewer.scope
    with session_scope(readonly=True) as db:
        totals = reads.balance(db, scope)
        if viewer.default_currency not in totals:
            totals[viewer.default_currency] = {"available": 0, "pending": 0, "inTransit": 0}
        account = bank_accounts.current(db, scope.merchant_id)
        verified = account is not None and account.access_token_encrypted is not None
        cards = [
            _currency_card(db, viewer, currency, figures, verified=verified, now=now)
            for currency, figures in sorted(totals.items())
        ]
    bank = ""
    if account is not None and verified:
        bank = f"{account.institution_name} · {account.subtype.capitalize()} ••{account.mask}"
    return BalancePage(
        currencies=cards,
        bank=bank,
        can_pay_out=viewer.can(Permission.MANAGE_PAYOUTS),
        can_export=viewer.can(Permission.EXPORT_DATA),
        testmode=not scope.livemode,
        type_choices=[[t.value, labels.balance_type(t)] for t in BalanceTransactionType],
    )


def _currency_card(
    db: Session,
    viewer: Viewer,
    currency: str,
    figures: dict[str, int],
    *,
    verified: bool,
    now: datetime,
) -> CurrencyBalance:
    locale = viewer.locale

    def money(amount: int) -> str:
        return format_money(amount, currency, locale)

    schedule = schedules.get_schedule(db, viewer.scope, currency)
    platform = db.get(
        Balance, (viewer.scope.merchant_id, viewer.scope.livemode, currency, PLATFORM)
    )
    available = platform.available if platform is not None else 0
    note, needs_bank = "", False
    if not verified:
        upcoming, needs_bank = "Add a bank account to be paid", True
    elif schedule.interval == PayoutInterval.MANUAL:
        upcoming = "Manual payouts"
    else:
        day = next_payout_day(db, viewer, schedule, now)
        if day is None:  # pragma: no cover - every automatic schedule has a due day
            upcoming = "Manual payouts"
        else:
            expected = max(0, available + maturing_by(db, viewer, currency, day))
            upcoming = f"{format_skeleton('yMMMEd', day, locale=locale)} · about {money(expected)}"
            if expected <= 0:
                note = "Nothing to pay out yet: a payout is made once funds are available."
            elif expected < schedule.minimum_amount:
                note = f"Below the minimum of {money(schedule.minimum_amount)}: carried over."
    minimum = schedule.minimum_amount
    return CurrencyBalance(
        currency=currency,
        available=money(figures["available"]),
        pending=money(figures["pending"]),
        in_transit=money(figures["inTransit"]),
        available_major=str(to_major(available, currency)) if available > 0 else "",
        next_payout=upcoming,
        next_note=note,
        needs_bank=needs_bank,
        schedule=schedule_words(schedule),
        interval=schedule.interval,
        weekly_anchor=schedule.weekly_anchor,
        monthly_anchor=schedule.monthly_anchor,
        minimum=str(to_major(minimum, currency)) if minimum else "",
        minimum_words=f"At least {money(minimum)}" if minimum else "No minimum",
    )


def schedule_words(schedule: PayoutSchedule) -> str:
    interval = schedule.interval
    if interval == PayoutInterval.WEEKLY:
        return f"Weekly on {WEEKDAYS[schedule.weekly_anchor]}"
    if interval == PayoutInterval.MONTHLY:
        return f"Monthly on day {schedule.monthly_anchor}" + (
            " (or the month's last day)" if schedule.monthly_anchor > 28 else ""
        )
    return labels.payout_interval(interval)


def next_payout_day(
    db: Session, viewer: Viewer, schedule: PayoutSchedule, now: datetime
) -> date | None:
    """The first UTC day the schedule pays on, from today; today only if today's automatic
    payout has not been made yet (the hourly job pays once a day)."""
    today = now.astimezone(UTC).date()
    for offset in range(SCHEDULE_HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if not schedules.due(schedule, day):
            continue
        if offset == 0 and _paid_automatically_on(db, viewer, schedule.currency, day):
            continue
        return day
    return None


def _paid_automatically_on(db: Session, viewer: Viewer, currency: str, day: date) -> bool:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    count = db.exec(
        select(func.count()).where(
            Payout.merchant_id == viewer.scope.merchant_id,
            Payout.livemode == viewer.scope.livemode,
            Payout.currency == currency,
            Payout.holder == PLATFORM,
            col(Payout.automatic).is_(True),
            Payout.created_at >= start,
            Payout.created_at < start + timedelta(days=1),
        )
    ).one()
    return count > 0


def maturing_by(db: Session, viewer: Viewer, currency: str, day: date) -> int:
    """The net of pending funds whose date has come by the start of that UTC day (when the
    day's payout releases matured funds and pays out)."""
    cutoff = datetime.combine(day, time(0), tzinfo=UTC)
    total = db.exec(
        select(func.coalesce(func.sum(BT.net), 0)).where(
            BT.merchant_id == viewer.scope.merchant_id,
            BT.livemode == viewer.scope.livemode,
            BT.currency == currency,
            BT.holder == PLATFORM,
            BT.status == BalanceTransactionStatus.PENDING,
            BT.available_on <= cutoff,
        )
    ).one()
    return int(total)


# -- lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransactionFilters:
    type: str | None = None
    currency: str | None = None
    payout: str | None = None  # the transactions one payout paid out

    @classmethod
    def parse(
        cls, type_: str | None, currency: str | None, payout: str | None = None
    ) -> TransactionFilters:
        """The list's filters as the page or the CSV's address gives them ("" = all)."""
        kind = (type_ or "").strip()[:24] or None
        if kind is not None and kind not in set(BalanceTransactionType):
            raise ValidationFailed("Choose a type from the list", param="type")
        code = (currency or "").strip()[:3] or None
        return cls(kind, normalise_currency(code) if code else None, (payout or "")[:40] or None)

    def params(self) -> dict[str, str]:
        pairs = (("type", self.type), ("currency", self.currency), ("payout", self.payout))
        return {k: v for k, v in pairs if v}


def transactions_page(
    viewer: Viewer, filters: TransactionFilters, *, cursor: str | None, limit: int = 25
) -> tuple[list[dict[str, str]], str | None]:
    """One page of balance transactions as rows, newest first, and the next page's cursor."""
    require_view(viewer)
    with session_scope(readonly=True) as db:
        found, next_cursor = reads.list_balance_transactions(
            db,
            viewer.scope,
            type=filters.type,
            currency=filters.currency,
            payout=filters.payout,
            limit=limit,
            cursor=cursor,
        )
        links = source_links(db, viewer, found)
    return [transaction_row(t, viewer, links) for t in found], next_cursor


def source_links(db: Session, viewer: Viewer, rows: list[BalanceTransaction]) -> dict[str, str]:
    """Each source's page: a payment's own, a refund's or dispute's payment, a payout's."""
    links: dict[str, str] = {}
    wanted: dict[str, list[str]] = {"refund": [], "dispute": []}
    for t in rows:
        if t.source_type == "payment":
            links[t.source_id] = f"/payments/{t.source_id}"
        elif t.source_type == "payout":
            links[t.source_id] = f"/balance/payouts/{t.source_id}"
        elif t.source_type in wanted:
            wanted[t.source_type].append(t.source_id)
    for model in (Refund, Dispute):
        ids = wanted["refund" if model is Refund else "dispute"]
        if not ids:
            continue
        for source_id, payment_id in db.exec(
            select(model.id, model.payment_id).where(
                col(model.id).in_(ids), model.merchant_id == viewer.scope.merchant_id
            )
        ).all():
            links[source_id] = f"/payments/{payment_id}"
    return links


def transaction_row(t: BalanceTransaction, viewer: Viewer, links: dict[str, str]) -> dict[str, str]:
    locale, tz = viewer.locale, zone(viewer.timezone)

    def money(amount: int) -> str:
        return format_money(amount, t.currency, locale)

    local = t.created_at.astimezone(tz)
    href = links.get(t.source_id, "")
    source = {
        "payment": "Payment",
        "refund": "Refund's payment",
        "dispute": "Disputed payment",
        "payout": "Payout",
    }.get(t.source_type, "")
    kind = labels.balance_type(t.type)
    pending = t.status == BalanceTransactionStatus.PENDING
    on = format_date(t.available_on.astimezone(UTC).date(), "medium", locale=locale)
    return {
        "id": t.id,
        "type": kind,
        # The description only when it says more than the type ("Gift card", "PAYPORTAL").
        "description": "" if (t.description or kind) == kind else (t.description or ""),
        "amount": money(t.amount),
        "fee": f"Fee {money(t.fee)}" if t.fee else "",
        "net": money(t.net),
        "negative": "1" if t.net < 0 else "",
        "currency": t.currency,
        "status": labels.status(t.status),
        "date": format_date(local, "medium", locale=locale),
        "available_on": f"Available on {on}" if pending else "",
        "source": source if href else "",
        "href": href,
    }


def payouts_page(
    viewer: Viewer, *, cursor: str | None, limit: int = RECENT_PAYOUTS
) -> tuple[list[dict[str, str]], str | None]:
    """The payouts, newest first, as rows, and the next page's cursor."""
    require_view(viewer)
    with session_scope(readonly=True) as db:
        found, next_cursor = reads.list_payouts(db, viewer.scope, limit=limit, cursor=cursor)
    return [payout_row(p, viewer) for p in found], next_cursor


def payout_status(payout: Payout) -> tuple[str, str]:
    """(code for the badge's colour, words): a payout the bank sent back reads "Returned"."""
    if payout.status == PO.FAILED and _ACH_RETURN.fullmatch(payout.failure_code or ""):
        return "returned", labels.status("returned")
    return payout.status, labels.status(payout.status)


def payout_row(p: Payout, viewer: Viewer) -> dict[str, str]:
    locale = viewer.locale
    status, words = payout_status(p)
    arrival = p.paid_at or p.arrival_date
    return {
        "id": p.id,
        "amount": format_money(p.amount, p.currency, locale),
        "currency": p.currency,
        "status": status,
        "status_label": words,
        "kind": "Automatic" if p.automatic else "Manual",
        "created": format_date(
            p.created_at.astimezone(zone(viewer.timezone)), "medium", locale=locale
        ),
        "arrival": format_date(arrival.astimezone(UTC).date(), "medium", locale=locale)
        if arrival is not None and p.status in (PO.PENDING, PO.IN_TRANSIT, PO.PAID)
        else "—",
    }


def payout_detail(viewer: Viewer, payout_id: str) -> PayoutDetail:
    """One payout with the transactions it paid out and their total (NotFound for another
    merchant's or mode's id)."""
    require_view(viewer)
    locale = viewer.locale
    with session_scope(readonly=True) as db:
        payout = reads.get_payout(db, viewer.scope, payout_id[:64])
        paid_out = reads.paid_out_transactions(db, payout)
        links = source_links(db, viewer, paid_out)
        account = db.get(BankAccount, payout.bank_account_id) if payout.bank_account_id else None

    def money(amount: int) -> str:
        return format_money(amount, payout.currency, locale)

    def moment(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(zone(viewer.timezone))
        return format_datetime(local, "medium", tzinfo=local.tzinfo, locale=locale)

    status, words = payout_status(payout)
    total = sum(t.net for t in paid_out)
    whole = bool(paid_out)
    ended = {
        PO.PAID: ("Paid", moment(payout.paid_at)),
        PO.FAILED: ("Returned" if status == "returned" else "Failed", moment(payout.failed_at)),
        PO.CANCELED: ("Canceled", moment(payout.canceled_at)),
    }.get(payout.status, ("", ""))
    owner = viewer.can(Permission.MANAGE_PAYOUTS)
    sums: dict[str, list[int]] = {}
    for t in paid_out:
        line = sums.setdefault(t.type, [0, 0])
        line[0], line[1] = line[0] + 1, line[1] + t.net
    order = list(labels.BALANCE_TYPE_LINES)
    lines = [
        {"label": labels.balance_line(kind), "count": f"{n:,}", "net": money(net)}
        for kind, (n, net) in sorted(
            sums.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
        )
    ]
    return PayoutDetail(
        payout={
            "id": payout.id,
            "amount": money(payout.amount),
            "currency": payout.currency,
            "status": status,
            "status_label": words,
            "kind": "Automatic payout" if payout.automatic else "Manual payout",
            "created": moment(payout.created_at),
            "arrival": format_date(
                payout.arrival_date.astimezone(UTC).date(), "full", locale=locale
            )
            if payout.arrival_date is not None
            else "—",
            "ended_label": ended[0],
            "ended": ended[1],
            "failure": payout.failure_message or "",
            "bank": f"{account.institution_name} · {account.subtype.capitalize()} ••{account.mask}"
            if account is not None
            else "—",
            "description": payout.description or "",
        },
        lines=lines,
        transactions=[transaction_row(t, viewer, links) for t in paid_out[:DETAIL_ROWS]],
        count=f"{len(paid_out):,} transaction{'s' if len(paid_out) != 1 else ''}" if whole else "",
        csv="/api/portal/exports/balance_transactions.csv?payout=" + payout.id,
        total=money(total) if whole else "",
        adds_up=whole and total == payout.amount,
        note="" if whole else PARTIAL_NOTE,
        can_cancel=owner and payout.status == PO.PENDING,
        can_simulate=owner and not viewer.scope.livemode and payout.status == PO.IN_TRANSIT,
    )


# -- actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutReview:
    currency: str
    amount: int | None  # None: everything available
    summary: str  # what the confirm step says


def review_pay_out(viewer: Viewer, currency: str, typed: str) -> PayoutReview:
    """Check a "Pay out" form before the confirm step: the owner, the currency, the amount as
    typed in the merchant's locale (empty = everything available) and the bank account."""
    viewer.require(Permission.MANAGE_PAYOUTS)
    upper = normalise_currency(currency)
    text = (typed or "").strip()
    amount = parse_money(text, upper, viewer.locale, param="amount") if text else None
    with session_scope(readonly=True) as db:
        account = bank_accounts.current(db, viewer.scope.merchant_id)
        if account is None or account.access_token_encrypted is None:
            raise Conflict(
                "Connect and verify a bank account before paying out", code="bank_account_missing"
            )
        row = db.get(Balance, (viewer.scope.merchant_id, viewer.scope.livemode, upper, PLATFORM))
    available = row.available if row is not None else 0
    if available <= 0:
        raise Conflict("There is no available balance to pay out", code="balance_insufficient")
    if amount is not None and amount > available:
        raise ValidationFailed(
            f"That is more than the {format_money(available, upper, viewer.locale)} available",
            param="amount",
        )
    shown = format_money(amount if amount is not None else available, upper, viewer.locale)
    bank = f"{account.institution_name} ••{account.mask}"
    what = "everything available" if amount is None else "part of your balance"
    return PayoutReview(upper, amount, f"Pay out {shown} ({what}) to {bank}?")


def pay_out(viewer: Viewer, currency: str, amount: int | None, *, ip_address: str | None) -> Payout:
    """Book the payout (owner; StepUpRequired in live mode without a fresh code), commit, then
    send it on the rail."""
    with session_scope() as db:
        payout = creating.create_manual(
            db, viewer.scope, viewer.actor(ip_address), currency, amount, member=viewer.ctx
        )
        payout_id = payout.id
    return creating.send(payout_id)


def cancel(viewer: Viewer, payout_id: str, *, ip_address: str | None) -> Payout:
    with session_scope() as db:
        return canceling.cancel(
            db, viewer.scope, viewer.actor(ip_address), payout_id[:64], member=viewer.ctx
        )


def set_schedule(
    viewer: Viewer,
    currency: str,
    *,
    interval: str,
    weekday: str,
    day_of_month: str,
    minimum: str,
    ip_address: str | None,
) -> PayoutSchedule:
    """The schedule form as typed: a weekday's number, a day of the month and an optional
    minimum amount in the merchant's locale."""
    upper = normalise_currency(currency)
    try:
        weekly, monthly = int(weekday or 0), int(day_of_month or 1)
    except ValueError:
        raise ValidationFailed("Choose a weekday and a day of the month", param="day") from None
    text = (minimum or "").strip()
    minimum_amount = parse_money(text, upper, viewer.locale, param="minimum") if text else 0
    with session_scope() as db:
        return schedules.set_schedule(
            db,
            viewer.scope,
            viewer.actor(ip_address),
            upper,
            interval=interval,
            weekly_anchor=weekly,
            monthly_anchor=monthly,
            minimum_amount=minimum_amount,
            member=viewer.ctx,
        )


def simulate_return(viewer: Viewer, payout_id: str) -> Payout:
    """Test mode only: have the rail return an in-transit payout (ACH R01, insufficient funds),
    then read the rail's events so the return is booked and its money is available again.

    The rail's sandbox returns a transfer only once it is posted, so a pending transfer is
    posted first. The sandbox twin keeps its events in this process while the cursor lives in
    the database, so if the sync finds nothing new (a restarted server's twin numbers its
    events from 1 again) the transfer's own state is applied, as a retried send does."""
    if viewer.scope.livemode:
        raise PermissionDenied("Bank returns can only be simulated in test mode")
    with session_scope(readonly=True) as db:
        payout = reads.get_payout(db, viewer.scope, payout_id[:64])
        require_payout_authority(
            db, viewer.scope, viewer.actor(None), viewer.ctx, step_up_in_live=False
        )
    if payout.status != PO.IN_TRANSIT or not payout.rail_transfer_id:
        raise Conflict(
            "Only a payout on its way to the bank can be returned",
            code="payout_invalid_state",
        )
    rail = creating.rail_of(payout)
    transfer = payout.rail_transfer_id
    if rail.get(transfer).status == "pending":
        bank_payouts.simulate(transfer, "posted")
    bank_payouts.simulate(transfer, "returned", "R01")
    sync.sync_rail(rail)
    with session_scope() as db:
        locked = creating.get_locked(db, viewer.scope, payout.id)
        if locked.status == PO.IN_TRANSIT:
            creating.apply_state(db, locked, rail.get(transfer), viewer.actor(None))
        return locked


# -- the CSV export ----------------------------------------------------------------------

CSV_COLUMNS = (
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


def csv_row(t: BalanceTransaction, tz: str) -> list[object]:
    """One transaction as the CSV's cells: amounts in major units, times in the merchant's
    zone, free text through the formula guard (as the statements' CSV)."""

    def major(amount: int) -> str:
        return str(to_major(amount, t.currency))

    return [
        t.id,
        t.created_at.astimezone(zone(tz)).isoformat(timespec="seconds"),
        labels.balance_type(t.type),
        safe_cell(t.description or labels.balance_type(t.type)),
        t.source_id,
        major(t.amount),
        major(t.fee),
        major(t.net),
        t.currency,
        labels.status(t.status),
        t.available_on.astimezone(UTC).date().isoformat(),
        t.payout_id or "",
    ]


def transactions_csv(viewer: Viewer, filters: TransactionFilters) -> Iterator[str]:
    """The filtered balance transactions, newest first, as CSV text chunks: the header (with
    the BOM Excel needs for UTF-8), then one chunk per page, each page its own short read."""
    viewer.require(Permission.EXPORT_DATA)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    cursor: str | None = None
    while True:
        with session_scope(readonly=True) as db:
            page, cursor = reads.list_balance_transactions(
                db,
                viewer.scope,
                type=filters.type,
                currency=filters.currency,
                payout=filters.payout,
                limit=paging.MAX_LIMIT,
                cursor=cursor,
            )
            writer.writerows(csv_row(t, viewer.timezone) for t in page)
        yield flush()
        if cursor is None:
            return
