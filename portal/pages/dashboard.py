"""Home: the last 30 days at a glance and the latest payments."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_page
from portal.components.payments_table import labelled_select, payments_table
from portal.state.dashboard import RANGE_DAYS, DashboardState


def kpi(label: str, value: rx.Var, hint: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.text(value, size="6", weight="bold"),
            rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
            spacing="1",
        ),
        width="100%",
    )


def recent_payments() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Latest payments", size="4", as_="h2"),
            rx.cond(
                DashboardState.recent.length() > 0,  # type: ignore[attr-defined]
                payments_table(DashboardState.recent),
                rx.text(
                    "No payments yet. Create one with your test API key and it will appear here.",
                    color_scheme="gray",
                    size="2",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def currency_picker() -> rx.Component:
    return labelled_select(
        DashboardState.currencies,
        value=DashboardState.currency,
        on_change=DashboardState.choose_currency,
        label="Currency",
    )


@portal_page("/dashboard", "Dashboard", on_load=[DashboardState.load])
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading("Dashboard", size="7", as_="h1"),
                rx.text(f"Last {RANGE_DAYS} days", size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            currency_picker(),
            width="100%",
            align="end",
        ),
        rx.grid(
            kpi("Gross volume", DashboardState.gross),
            kpi("Net", DashboardState.net),
            kpi("Fees", DashboardState.fees),
            kpi("Refunded", DashboardState.refunded),
            kpi("Successful payments", DashboardState.successful_payments),
            kpi("Success rate", DashboardState.success_rate),
            columns=rx.breakpoints(initial="2", sm="3"),
            spacing="3",
            width="100%",
        ),
        recent_payments(),
        spacing="5",
        width="100%",
    )
