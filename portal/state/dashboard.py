"""The dashboard's headline figures and latest payments, read through the service layer."""

from __future__ import annotations

import reflex as rx

from backend.db import session_scope
from backend.services import reporting
from backend.services.currency import format_money
from portal.state.auth import AuthState
from portal.state.formatting import payment_row

RANGE_DAYS = 30


class DashboardState(AuthState):
    currency: str = "USD"
    currencies: list[str] = ["USD"]
    gross: str = ""
    net: str = ""
    fees: str = ""
    refunded: str = ""
    successful_payments: int = 0
    success_rate: str = "—"
    recent: list[dict[str, str]] = []
    loaded: bool = False

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self._refresh(ctx.merchant_id, ctx.livemode)
        return None

    @rx.event
    def choose_currency(self, currency: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if currency in self.currencies:
            self.currency = currency
            self._refresh(ctx.merchant_id, ctx.livemode)
        return None

    def _refresh(self, merchant_id: str, livemode: bool) -> None:
        with session_scope(readonly=True) as db:
            self.currencies = reporting.currencies_used(
                db, merchant_id=merchant_id, livemode=livemode
            ) or ["USD"]
            if self.currency not in self.currencies:
                self.currency = self.currencies[0]
            figures = reporting.overview(
                db,
                merchant_id=merchant_id,
                livemode=livemode,
                currency=self.currency,
                days=RANGE_DAYS,
            )
            recent = reporting.recent_payments(db, merchant_id=merchant_id, livemode=livemode)
        self.gross = format_money(figures.gross, self.currency)
        self.net = format_money(figures.net, self.currency)
        self.fees = format_money(figures.fees, self.currency)
        self.refunded = format_money(figures.refunded, self.currency)
        self.successful_payments = figures.successful_payments
        rate = figures.success_rate
        self.success_rate = "—" if rate is None else f"{rate:.1%}"
        self.recent = [payment_row(p) for p in recent]
        self.loaded = True
