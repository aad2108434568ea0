"""CSV exports of the payments list, streamed in keyset batches (and the rules every CSV export
follows: `safe_cell`, the BOM, amounts in major units, times in the merchant's time zone).

A million rows never sit in memory: each batch is read in its own short read-only unit of
work (no transaction is held open while a slow client downloads), written out, and dropped.
Amounts are plain decimals in major units beside their currency code, and times ISO 8601 in
the merchant's time zone, so spreadsheets and scripts read them without guessing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import date

from sqlalchemy.engine import Engine

from backend.core.currency import normalise_currency, to_major
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import Payment
from backend.models.enums import PaymentStatus
from backend.services.context import Scope
from backend.services.payments.charges import PAYMENT_METHOD_TYPES
from backend.services.reporting import payment_list, periods

BATCH_SIZE = 1000
COLUMNS = (
    "id",
    "created_at",
    "status",
    "currency",
    "amount",
    "amount_captured",
    "amount_refunded",
    "platform_fee",
    "gateway_fee",
    "net",
    "customer_email",
    "payment_method",
    "card_brand",
    "card_last4",
    "gateway",
    "risk_score",
    "risk_decision",
    "order_id",
    "description",
    "failure_code",
    # Last, so existing readers of the columns by position keep working.
    "card_wallet",
)
# A cell starting with one of these is a formula to a spreadsheet: a customer-supplied value
# such as "=HYPERLINK(...)" must stay text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A cell as text a spreadsheet never runs: every CSV export writes free text through it."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _row(p: Payment, tz: str) -> list[object]:
    def money(amount: int) -> str:
        return str(to_major(amount, p.currency))

    return [
        p.id,
        p.created_at.astimezone(periods.zone(tz)).isoformat(timespec="seconds"),
        p.status,
        p.currency,
        money(p.amount),
        money(p.amount_captured),
        money(p.amount_refunded),
        money(p.platform_fee),
        money(p.gateway_fee),
        money(p.net_amount),
        safe_cell(p.customer_email or ""),
        p.payment_method_type,
        p.card_brand or "",
        p.card_last4 or "",
        p.gateway,
        "" if p.risk_score is None else p.risk_score,
        p.risk_decision or "",
        p.order_id or "",
        safe_cell(p.description or ""),
        p.failure_code or "",
        p.card_wallet or "",
    ]


def payments_csv(
    scope: Scope,
    filters: payment_list.PaymentFilters,
    *,
    tz: str,
    batch_size: int = BATCH_SIZE,
    engine: Engine | None = None,
) -> Iterator[str]:
    """The filtered payments list as CSV text chunks: the header, then one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield "\ufeff" + flush()  # the BOM makes Excel read UTF-8 (names with accents)
    cursor: str | None = None
    while True:
        with session_scope(engine, readonly=True) as db:
            page = payment_list.search_payments(
                db,
                merchant_id=scope.merchant_id,
                livemode=scope.livemode,
                filters=filters,
                cursor=cursor,
                limit=batch_size,
            )
            writer.writerows(_row(p, tz) for p in page.payments)
        yield flush()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def filters_from_query(params: Mapping[str, str], tz: str) -> payment_list.PaymentFilters:
    """The payments list's filters from a URL's query (the portal links its export with the
    filters on screen): q, status, currency, method, gateway, customer, risk, from, to (local
    days)."""
    status = params.get("status", "")
    if status and status not in set(PaymentStatus):
        raise ValidationFailed(f"Unknown status {status!r}", param="status")
    currency = params.get("currency", "")
    method = params.get("method", "")
    if method and method not in PAYMENT_METHOD_TYPES:
        raise ValidationFailed(f"Unknown payment method {method!r}", param="method")
    gateway = params.get("gateway", "")[:32]
    risk = params.get("risk", "")
    if risk and risk not in payment_list.RISK_FILTERS:
        raise ValidationFailed(f"Unknown risk filter {risk!r}", param="risk")
    try:
        first = date.fromisoformat(params["from"]) if params.get("from") else None
        last = date.fromisoformat(params["to"]) if params.get("to") else None
    except ValueError:
        raise ValidationFailed("Dates are YYYY-MM-DD", param="from") from None
    start, end = periods.local_day_bounds(first, last, tz)
    return payment_list.PaymentFilters(
        query=params.get("q", "")[:200],
        statuses=(status,) if status else (),
        currency=normalise_currency(currency) if currency else None,
        method=method or None,
        gateway=gateway or None,
        customer_id=params.get("customer", "")[:40] or None,
        risk=risk or None,
        created_from=start,
        created_to=end,
    )
