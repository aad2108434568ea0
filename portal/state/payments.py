"""The payments page: search, filters and keyset pages; and one payment's details."""

from __future__ import annotations

import reflex as rx
from sqlmodel import select

from backend.db import session_scope
from backend.models import PaymentAttempt
from backend.services import payments, reporting
from backend.services.currency import format_money
from backend.services.errors import ServiceError
from portal.state.auth import AuthState
from portal.state.formatting import payment_row, status_label

STATUS_CHOICES = [
    "all",
    "succeeded",
    "authorized",
    "partially_refunded",
    "refunded",
    "failed",
    "voided",
    "disputed",
    "requires_action",
]
PAGE_SIZE = 25


class PaymentsState(AuthState):
    query: str = ""
    status: str = "all"
    rows: list[dict[str, str]] = []
    has_more: bool = False
    error: str = ""
    _cursor: str | None = None

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        return self._search(reset=True)

    @rx.event
    def set_query(self, value: str) -> None:
        self.query = value[:200]

    @rx.event
    def submit_search(self, _form: dict[str, str]):  # type: ignore[no-untyped-def]
        return self._search(reset=True)

    @rx.event
    def choose_status(self, value: str):  # type: ignore[no-untyped-def]
        self.status = value if value in STATUS_CHOICES else "all"
        return self._search(reset=True)

    @rx.event
    def load_more(self):  # type: ignore[no-untyped-def]
        return self._search(reset=False)

    def _search(self, *, reset: bool):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        filters = reporting.PaymentFilters(
            query=self.query,
            statuses=() if self.status == "all" else (self.status,),
        )
        try:
            with session_scope(readonly=True) as db:
                page = reporting.search_payments(
                    db,
                    merchant_id=ctx.merchant_id,
                    livemode=ctx.livemode,
                    filters=filters,
                    cursor=None if reset else self._cursor,
                    limit=PAGE_SIZE,
                )
        except ServiceError as exc:
            self.error = exc.message
            return None
        found = [payment_row(p) for p in page.payments]
        self.rows = found if reset else [*self.rows, *found]
        self._cursor = page.next_cursor
        self.has_more = page.next_cursor is not None
        self.error = ""
        return None


class PaymentDetailState(AuthState):
    payment: dict[str, str] = {}
    refunds: list[dict[str, str]] = []
    attempts: list[dict[str, str]] = []
    risk_reasons: list[str] = []
    not_found: bool = False
    loaded: bool = False

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        payment_id = str(self.router.page.params.get("payment_id", ""))[:64]
        scope = payments.Scope(ctx.merchant_id, ctx.livemode)
        try:
            with session_scope(readonly=True) as db:
                p = payments.get_payment(db, scope, payment_id)
                refunds = payments.refunds_of(db, p.id)
                attempts = list(
                    db.exec(
                        select(PaymentAttempt)
                        .where(PaymentAttempt.payment_id == p.id)
                        .order_by(PaymentAttempt.created_at)
                    )
                )
        except ServiceError:
            self.not_found = self.loaded = True
            self.payment, self.refunds, self.attempts, self.risk_reasons = {}, [], [], []
            return None

        def money(amount: int) -> str:
            return format_money(amount, p.currency)

        self.not_found = False
        self.payment = {
            **payment_row(p),
            "currency": p.currency,
            "captured": money(p.amount_captured),
            "refunded": money(p.amount_refunded),
            "platform_fee": money(p.platform_fee),
            "gateway_fee": money(p.gateway_fee),
            "net": money(p.net_amount),
            "gateway": p.gateway,
            "order": p.order_id or "—",
            "risk_score": "—" if p.risk_score is None else str(p.risk_score),
            "risk_decision": (p.risk_decision or "—").capitalize(),
            "failure": p.failure_message or "",
            "expiry": f"{p.card_exp_month:02d}/{p.card_exp_year}" if p.card_exp_month else "—",
        }
        self.risk_reasons = list(p.risk_reasons or [])
        self.refunds = [
            {
                "id": r.id,
                "amount": money(r.amount),
                "status": status_label(r.status),
                "reason": (r.reason or "—").replace("_", " "),
                "date": r.created_at.strftime("%d %b %Y, %H:%M UTC"),
            }
            for r in refunds
        ]
        self.attempts = [
            {
                "gateway": a.gateway,
                "operation": a.operation,
                "outcome": a.outcome,
                "code": a.code or "",
                "latency": f"{a.latency_ms} ms",
                "date": a.created_at.strftime("%d %b %Y, %H:%M:%S UTC"),
            }
            for a in attempts
        ]
        self.loaded = True
        return None
