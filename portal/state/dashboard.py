"""Home: figures for a range and a currency against the previous period, charts, and the live
feed of payments pushed from the server as they happen.

What is on screen always belongs to the controls above it: a range that cannot be shown
(Custom without both days, an end before the start) clears the figures and says why, instead
of leaving the previous range's figures under the new choice. The figures follow the live
feed (recomputed through the reporting service a moment after payments arrive), and a tab
whose websocket comes back catches up on what it missed (portal/state/live_feed.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import reflex as rx
from babel.dates import format_date, format_time
from babel.numbers import format_percent

from backend.core.currency import format_money, to_major
from backend.core.errors import ServiceError
from backend.services.identity.permissions import Permission
from backend.services.reporting import dashboard, dashboard_page, live_feed, periods
from portal.state.auth import AuthState
from portal.state.formatting import payment_row
from portal.state.live_feed import HUB, Subscription, client_connected
from portal.state.viewer import Viewer, current_viewer

log = logging.getLogger(__name__)

RANGES = [("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("custom", "Custom")]
FEED_SIZE = 10
IDLE_CHECK_SECONDS = 15.0
# After a payment arrives, the figures are recomputed this long after it, so a burst of
# payments costs one recomputation, not one each.
FIGURES_DEBOUNCE_SECONDS = 1.0
MINUS = "\u2212"  # a real minus sign, as wide as the plus


def change_label(
    change: dashboard.Change, *, higher_is_good: bool, locale: str = "en_US"
) -> dict[str, str]:
    """A figure's change against the previous period as its tile reads it, and its colour."""
    if change.new:
        trend = "good" if change.up == higher_is_good else "bad"
        return {"delta": "New", "trend": trend}
    if change.no_earlier_data:
        return {"delta": "No earlier data", "trend": "flat"}
    if change.ratio is None:
        return {"delta": "—", "trend": "flat"}
    if abs(change.ratio) < 0.0005:
        return {"delta": "No change", "trend": "flat"}
    percent = format_percent(abs(change.ratio), "#,##0.0%", locale=locale)
    return {
        "delta": ("+" if change.up else MINUS) + f"{percent} vs previous period",
        "trend": "good" if change.up == higher_is_good else "bad",
    }


def _tile(label: str, value: str, current, previous, *, higher_is_good: bool, locale: str):  # type: ignore[no-untyped-def]
    delta = change_label(
        dashboard.change(current, previous), higher_is_good=higher_is_good, locale=locale
    )
    return {"label": label, "value": value, **delta}


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
    live: bool = False
    error: str = ""
    # Why the chosen range shows no figures (Custom without both days, an end before start).
    range_problem: str = ""
    figures_at: str = ""  # when the figures on screen were read, in the merchant's time zone
    figures_stale: bool = False  # recomputing them after a payment failed: offer a refresh
    loaded: bool = False
    # Per currency: available, pending and the next payout (a compact card linking to /balance).
    balances: list[dict[str, str]] = []

    _read_at: datetime | None = None  # when the feed on screen was read from the database

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is not None:
            try:
                self.balances = dashboard_page.balance_summary(viewer)
            except ServiceError:
                self.balances = []
        return self._refresh()

    @rx.event
    def choose_range(self, value: str | list[str]):  # type: ignore[no-untyped-def]
        value = value[0] if isinstance(value, list) and value else value
        if not isinstance(value, str) or value not in dict(RANGES):
            return None
        self.range_key = value
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

    def _selection(self) -> tuple[str, str, str, str]:
        return (self.range_key, self.custom_from, self.custom_to, self.currency)

    def _refresh(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            read_at = datetime.now(UTC)
            found = dashboard_page.dashboard_figures(
                viewer.ctx,
                range_key=self.range_key,
                custom_from=self.custom_from,
                custom_to=self.custom_to,
                timezone=viewer.timezone,
                currency=self.currency,
                fallback_currency=viewer.default_currency,
                recent=FEED_SIZE,
            )
        except ServiceError as exc:
            # Nothing from the previous choice stays under the new one.
            self._clear_figures()
            if exc.param == "range":
                self.range_problem, self.error = exc.message, ""
            else:
                self.error, self.range_problem = exc.message, ""
            self.loaded = True
            return None
        self.error = self.range_problem = ""
        data, period = found.overview, found.period
        self._show_figures(data, viewer, period)
        self._show_feed(data.recent, viewer)
        self._read_at = read_at
        self.loaded = True
        return None

    def _clear_figures(self) -> None:
        self.kpis, self.volume_series, self.method_series, self.currency_series = [], [], [], []
        self.has_volume = False
        self.range_label = self.figures_at = ""
        self.figures_stale = False

    def _show_figures(
        self, data: dashboard.Overview, viewer: Viewer, period: periods.Period
    ) -> None:
        locale = viewer.locale
        self.currencies = data.currencies
        self.currency = data.currency
        currency = data.currency or viewer.default_currency

        def money(amount: int | None) -> str:
            return "—" if amount is None else format_money(amount, currency, locale)

        now, before = data.current, data.previous
        rate = now.success_rate
        tile = partial(_tile, locale=locale)
        self.kpis = [
            tile("Gross volume", money(now.gross), now.gross, before.gross, higher_is_good=True),
            tile("Net", money(now.net), now.net, before.net, higher_is_good=True),
            tile("Fees", money(now.fees), now.fees, before.fees, higher_is_good=False),
            tile(
                "Successful payments",
                f"{now.successful:,}",
                now.successful,
                before.successful,
                higher_is_good=True,
            ),
            tile(
                "Success rate",
                "—" if rate is None else format_percent(rate, "#,##0.0%", locale=locale),
                rate,
                before.success_rate,
                higher_is_good=True,
            ),
            tile(
                "Refunds",
                f"{money(now.refunded)} · {now.refunds}",
                now.refunded,
                before.refunded,
                higher_is_good=False,
            ),
            tile(
                "Disputes",
                f"{money(now.disputed)} · {now.disputes}",
                now.disputes,
                before.disputes,
                higher_is_good=False,
            ),
            tile(
                "Average ticket",
                money(now.average_ticket),
                now.average_ticket,
                before.average_ticket,
                higher_is_good=True,
            ),
        ]
        days = period.day_list()
        self.range_label = (
            f"{format_date(days[0], 'medium', locale=locale)} \u2013 "
            f"{format_date(days[-1], 'medium', locale=locale)} ({viewer.timezone})"
        )
        # Charts plot numbers: major units as floats are fine for a picture; every amount
        # shown as text is formatted from integers.
        self.volume_series = [
            {
                "day": format_date(d.day, "d MMM", locale=locale),
                "volume": float(to_major(d.gross, currency)),
                "payments": d.count,
            }
            for d in data.days
        ]
        self.has_volume = any(d.gross for d in data.days)
        self.method_series = [
            {"name": s.label, "volume": float(to_major(s.volume, currency)), "payments": s.count}
            for s in data.methods
        ]
        self.currency_series = [{"name": s.label, "payments": s.count} for s in data.by_currency]
        self.figures_at = format_time(
            datetime.now(UTC), "medium", tzinfo=periods.zone(viewer.timezone), locale=locale
        )
        self.figures_stale = False

    def _show_feed(self, payments: list[Any], viewer: Viewer) -> None:
        """The latest payments as read now; after the tab was away (its websocket came back),
        the ones it had not shown yet are marked new."""
        shown = {r["id"] for r in self.recent}
        rows = [payment_row(p, viewer.locale, viewer.timezone) for p in payments]
        if shown:
            for row in rows:
                row["fresh"] = "" if row["id"] in shown else "1"
        self.recent = rows

    def _apply(self, payments: list[Any], viewer: Viewer) -> bool:
        """Put changed payments at the top of the feed, each once; True if any was new here."""
        rows = list(self.recent)
        added = False
        for payment in payments:
            row = payment_row(payment, viewer.locale, viewer.timezone)
            existing = next((i for i, r in enumerate(rows) if r["id"] == payment.id), None)
            if existing is None:
                row["fresh"] = "1"
                rows.insert(0, row)
                added = True
            else:
                row["fresh"] = rows[existing].get("fresh", "")
                rows[existing] = row
        self.recent = rows[:FEED_SIZE]
        return added

    # -- the live feed ---------------------------------------------------------------------

    @rx.event(background=True)
    async def watch_live(self):  # type: ignore[no-untyped-def]
        """Keep this tab's feed and figures current while it shows the dashboard.

        Waits on the process-wide watcher (portal/state/live_feed.py): no polling of its own,
        so a hundred open dashboards cost the database what one does. Runs again whenever the
        page loads, including when the websocket comes back after a cut: the new feed
        replaces the old one and first catches up on what happened while it was away.
        """
        async with self:
            viewer = current_viewer(self)
            if viewer is None or not viewer.can(Permission.VIEW_DATA):
                return
            token = self.router.session.client_token
            subscription = HUB.subscribe(token, viewer.ctx.merchant_id, viewer.ctx.livemode)
            self.live = True
        try:
            await self._follow(subscription, viewer, token)
        finally:
            HUB.unsubscribe(subscription)
            # A closed tab gets nothing more (Reflex would log each update to it as a warning).
            if client_connected(token):
                async with self:
                    if not subscription.ended:  # else a newer feed of this tab runs
                        self.live = False

    async def _follow(self, subscription: Subscription, viewer: Viewer, token: str) -> None:
        changed_at = time.monotonic() if await self._catch_up(subscription, viewer, token) else None
        figures_due = None if changed_at is None else changed_at + FIGURES_DEBOUNCE_SECONDS
        while True:
            wait = IDLE_CHECK_SECONDS if figures_due is None else figures_due - time.monotonic()
            batch = await _next_batch(subscription.queue, wait)
            if subscription.ended or not client_connected(token):
                return
            if batch:
                async with self:
                    if not self.router.url.path.startswith("/dashboard"):
                        return
                    self._apply(batch, viewer)
                changed_at = time.monotonic()
                if figures_due is None:
                    figures_due = changed_at + FIGURES_DEBOUNCE_SECONDS
            due = figures_due is not None and figures_due <= time.monotonic()
            if changed_at is not None and due:
                if not client_connected(token):
                    return
                await self._update_figures(viewer, not_before=changed_at)
                changed_at = figures_due = None

    async def _catch_up(self, subscription: Subscription, viewer: Viewer, token: str) -> bool:
        """Once every new change reaches the queue, read what changed since the feed on screen
        was read (with the watcher's look-back for late commits) and merge it in, each payment
        once. True if something was new to this tab (its figures are then out of date)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscription.ready.wait(), IDLE_CHECK_SECONDS)
        if not client_connected(token):
            return False
        async with self:
            read_at = self._read_at
        if read_at is None:
            return False
        changes = await asyncio.to_thread(
            live_feed.read_payment_changes,
            {(viewer.ctx.merchant_id, viewer.ctx.livemode)},
            since=read_at - live_feed.LOOKBACK,
        )
        if not changes or not client_connected(token):
            return False
        async with self:
            if subscription.ended:
                return False
            return self._apply([c.payment for c in changes], viewer)

    async def _update_figures(self, viewer: Viewer, *, not_before: float) -> None:
        """Recompute the figures for the selection on screen, sharing the read with other tabs
        showing the same ones; a selection changed meanwhile keeps its own fresher figures."""
        async with self:
            selection = self._selection()
            if self.range_problem or self.error:
                return
            try:
                period = dashboard_page.period_of(
                    self.range_key, viewer.timezone, self.custom_from, self.custom_to
                )
            except ServiceError:
                return
        read = partial(
            dashboard.read_overview,
            merchant_id=viewer.ctx.merchant_id,
            livemode=viewer.ctx.livemode,
            currency=selection[3],
            fallback_currency=viewer.default_currency,
            period=period,
            recent=FEED_SIZE,
        )
        key = (
            viewer.ctx.merchant_id,
            viewer.ctx.livemode,
            selection[3],
            viewer.default_currency,
            period,
        )
        try:
            data = await HUB.figures(key, read, not_before=not_before)
        except Exception:
            log.exception("dashboard: recomputing the figures failed")
            async with self:
                self.figures_stale = True
            return
        async with self:
            if self._selection() == selection:
                self._show_figures(data, viewer, period)


async def _next_batch(queue: asyncio.Queue[Any], wait: float) -> list[Any]:
    """What is in the queue, waiting up to `wait` seconds for the first item."""
    batch: list[Any] = []  # payments, and None when the feed closes
    if wait > 0:
        with contextlib.suppress(TimeoutError):
            batch.append(await asyncio.wait_for(queue.get(), wait))
    while not queue.empty():
        batch.append(queue.get_nowait())
    return [p for p in batch if p is not None]
