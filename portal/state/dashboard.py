"""Home: figures for a range and a currency against the previous period, charts, and the live
feed of payments pushed from the server as they happen."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date

import reflex as rx
from babel.dates import format_date

from backend.db import session_scope
from backend.services import reporting
from backend.services.currency import format_money, to_major
from backend.services.errors import ServiceError, ValidationFailed
from backend.services.permissions import Permission
from portal.state.auth import AuthState
from portal.state.formatting import payment_row
from portal.state.live_feed import HUB, client_connected
from portal.state.viewer import Viewer, current_viewer

RANGES = [("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("custom", "Custom")]
FEED_SIZE = 10
IDLE_CHECK_SECONDS = 15.0
MINUS = "\u2212"  # a real minus sign, as wide as the plus


def _delta(current: int | float | None, previous: int | float | None, *, higher_is_good: bool):
    ratio = reporting.change(current, previous)
    if ratio is None:
        return {"delta": "No earlier data" if not previous else "—", "trend": "flat"}
    if abs(ratio) < 0.0005:
        return {"delta": "No change", "trend": "flat"}
    up = ratio > 0
    good = up == higher_is_good
    return {
        "delta": ("+" if up else MINUS) + f"{abs(ratio):.1%} vs previous period",
        "trend": "good" if good else "bad",
    }


class DashboardState(AuthState):
    range_key: str = "30d"
    custom_from: str = ""
    custom_to: str = ""
    currency: str = ""
    currencies: list[str] = []
    range_label: str = ""
    kpis: list[dict[str, str]] = []
    volume_series: list[dict[str, str | float]] = []
    method_series: list[dict[str, str | float | int]] = []
    currency_series: list[dict[str, str | int]] = []
    has_volume: bool = False
    recent: list[dict[str, str]] = []
    new_payments: int = 0
    live: bool = False
    error: str = ""
    loaded: bool = False

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        return self._refresh()

    @rx.event
    def choose_range(self, value: str | list[str]):  # type: ignore[no-untyped-def]
        value = value[0] if isinstance(value, list) and value else value
        if not isinstance(value, str) or value not in dict(RANGES):
            return None
        self.range_key = value
        if value == "custom" and not (self.custom_from and self.custom_to):
            return None  # wait for both dates
        return self._refresh()

    @rx.event
    def apply_custom(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.custom_from = str(form.get("from", ""))[:10]
        self.custom_to = str(form.get("to", ""))[:10]
        self.range_key = "custom"
        return self._refresh()

    @rx.event
    def choose_currency(self, value: str):  # type: ignore[no-untyped-def]
        if value in self.currencies:
            self.currency = value
            return self._refresh()
        return None

    @rx.event
    def refresh_figures(self):  # type: ignore[no-untyped-def]
        return self._refresh()

    def _period(self, viewer: Viewer) -> reporting.Period:
        if self.range_key == "custom":
            try:
                first = date.fromisoformat(self.custom_from)
                last = date.fromisoformat(self.custom_to)
            except ValueError:
                raise ValidationFailed("Choose both dates of the range", param="range") from None
            return reporting.period_for(
                "custom", viewer.timezone, custom_from=first, custom_to=last
            )
        return reporting.period_for(self.range_key, viewer.timezone)

    def _refresh(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            viewer.require(Permission.VIEW_DATA)
            period = self._period(viewer)
            merchant_id, livemode = viewer.ctx.merchant_id, viewer.ctx.livemode
            with session_scope(readonly=True) as db:
                self.currencies = reporting.currencies_used(
                    db, merchant_id=merchant_id, livemode=livemode
                )
                if self.currency not in self.currencies:
                    self.currency = (
                        viewer.default_currency
                        if viewer.default_currency in self.currencies or not self.currencies
                        else self.currencies[0]
                    )
                args = {"merchant_id": merchant_id, "livemode": livemode}
                now = reporting.kpis(db, **args, currency=self.currency, period=period)
                before = reporting.kpis(db, **args, currency=self.currency, period=period.previous)
                days = reporting.volume_by_day(db, **args, currency=self.currency, period=period)
                methods = reporting.volume_by_method(
                    db, **args, currency=self.currency, period=period
                )
                by_currency = reporting.volume_by_currency(db, **args, period=period)
                recent = reporting.recent_payments(db, **args, limit=FEED_SIZE)
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return None
        self.error = ""
        locale, currency = viewer.locale, self.currency or viewer.default_currency

        def money(amount: int | None) -> str:
            return "—" if amount is None else format_money(amount, currency, locale)

        rate = now.success_rate
        previous_rate = before.success_rate
        self.kpis = [
            {"label": "Gross volume", "value": money(now.gross)}
            | _delta(now.gross, before.gross, higher_is_good=True),
            {"label": "Net", "value": money(now.net)}
            | _delta(now.net, before.net, higher_is_good=True),
            {"label": "Fees", "value": money(now.fees)}
            | _delta(now.fees, before.fees, higher_is_good=False),
            {"label": "Successful payments", "value": f"{now.successful:,}"}
            | _delta(now.successful, before.successful, higher_is_good=True),
            {"label": "Success rate", "value": "—" if rate is None else f"{rate:.1%}"}
            | _delta(rate, previous_rate, higher_is_good=True),
            {"label": "Refunds", "value": f"{money(now.refunded)} · {now.refunds}"}
            | _delta(now.refunded, before.refunded, higher_is_good=False),
            {"label": "Disputes", "value": f"{money(now.disputed)} · {now.disputes}"}
            | _delta(now.disputes, before.disputes, higher_is_good=False),
            {"label": "Average ticket", "value": money(now.average_ticket)}
            | _delta(now.average_ticket, before.average_ticket, higher_is_good=True),
        ]
        first, last = period.day_list()[0], period.day_list()[-1]
        self.range_label = (
            f"{format_date(first, 'medium', locale=locale)} \u2013 "
            f"{format_date(last, 'medium', locale=locale)} ({viewer.timezone})"
        )
        # Charts plot numbers: major units as floats are fine for a picture; every amount
        # shown as text is formatted from integers.
        self.volume_series = [
            {
                "day": format_date(d.day, "d MMM", locale=locale),
                "volume": float(to_major(d.gross, currency)),
                "payments": d.count,
            }
            for d in days
        ]
        self.has_volume = any(d.gross for d in days)
        self.method_series = [
            {"name": s.label, "volume": float(to_major(s.volume, currency)), "payments": s.count}
            for s in methods
        ]
        self.currency_series = [{"name": s.label, "payments": s.count} for s in by_currency]
        self.recent = [payment_row(p, locale, viewer.timezone) for p in recent]
        self.new_payments = 0
        self.loaded = True
        return None

    @rx.event(background=True)
    async def watch_live(self):  # type: ignore[no-untyped-def]
        """Keep this tab's feed of payments current while it shows the dashboard.

        Waits on the process-wide watcher (portal/state/live_feed.py): no query of its own,
        so a hundred open dashboards cost the database what one does.
        """
        async with self:
            viewer = current_viewer(self)
            token = self.router.session.client_token
            if viewer is None or not viewer.can(Permission.VIEW_DATA) or not HUB.claim(token):
                return
            self.live = True
        subscription = HUB.subscribe(viewer.ctx.merchant_id, viewer.ctx.livemode)
        try:
            while True:
                batch = []
                with contextlib.suppress(TimeoutError):
                    batch.append(
                        await asyncio.wait_for(subscription.queue.get(), IDLE_CHECK_SECONDS)
                    )
                while not subscription.queue.empty():
                    batch.append(subscription.queue.get_nowait())
                if not client_connected(token):
                    return
                async with self:
                    if not self.router.url.path.startswith("/dashboard"):
                        return
                    self._apply(batch, viewer)
        finally:
            HUB.unsubscribe(subscription)
            HUB.release(token)
            async with self:
                self.live = False

    def _apply(self, payments: list, viewer: Viewer) -> None:
        rows = list(self.recent)
        for payment in payments:
            row = payment_row(payment, viewer.locale, viewer.timezone)
            existing = next((i for i, r in enumerate(rows) if r["id"] == payment.id), None)
            if existing is None:
                row["fresh"] = "1"
                rows.insert(0, row)
                self.new_payments += 1
            else:
                row["fresh"] = rows[existing].get("fresh", "")
                rows[existing] = row
        self.recent = rows[:FEED_SIZE]
