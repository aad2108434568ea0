"""Home: a range and a currency at a glance, charts, and payments as they arrive."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from portal.components.charts import chart_card, currency_chart, method_chart, volume_chart
from portal.components.kpi import kpi_grid
from portal.components.layout import portal_page
from portal.components.onboarding_checklist import onboarding_checklist
from portal.components.payments_table import labelled_select, payments_table
from portal.components.quickstart import quickstart_card
from portal.state.billing_figures import BillingFiguresState
from portal.state.dashboard import RANGES, DashboardState
from portal.state.onboarding import OnboardingState
from portal.state.quickstart import QuickstartState


def range_picker() -> rx.Component:
    return rx.vstack(
        rx.segmented_control.root(
            *(rx.segmented_control.item(label, value=key) for key, label in RANGES),
            value=DashboardState.range_key,
            on_change=DashboardState.choose_range,
            aria_label="Date range",
            size="1",
        ),
        rx.cond(
            DashboardState.range_key == "custom",
            rx.form(
                rx.hstack(
                    rx.el.label("From", html_for="range-from", class_name="pp-label"),
                    rx.input(
                        id="range-from",
                        name="from",
                        type="date",
                        default_value=DashboardState.custom_from,
                        required=True,
                        size="1",
                    ),
                    rx.el.label("To", html_for="range-to", class_name="pp-label"),
                    rx.input(
                        id="range-to",
                        name="to",
                        type="date",
                        default_value=DashboardState.custom_to,
                        required=True,
                        size="1",
                    ),
                    rx.button("Apply", type="submit", size="1", variant="soft"),
                    align="center",
                    wrap="wrap",
                    spacing="2",
                ),
                on_submit=DashboardState.apply_custom,
                reset_on_submit=False,
            ),
        ),
        spacing="2",
        align="start",
    )


def live_badge() -> rx.Component:
    """The feed's state as the browser knows it: "Live" only while the websocket is up."""
    return rx.cond(
        has_connection_errors,
        rx.badge(
            rx.spinner(size="1"),
            "Reconnecting…",
            color_scheme="amber",
            variant="soft",
            role="status",
        ),
        rx.cond(
            DashboardState.live,
            rx.badge(
                rx.box(class_name="pp-live-dot"),
                "Live",
                color_scheme="green",
                variant="soft",
                role="status",
            ),
        ),
    )


def live_feed() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Latest payments", size="4", as_="h2"),
                live_badge(),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.box(
                rx.cond(
                    DashboardState.recent.length() > 0,  # type: ignore[attr-defined]
                    payments_table(DashboardState.recent),
                    rx.text(
                        "No payments yet. Create one with your test API key (Developers) and "
                        "it appears here at once.",
                        color_scheme="gray",
                        size="2",
                    ),
                ),
                aria_live="polite",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def figures_status() -> rx.Component:
    """When the figures were read, and whether they can be trusted to be current."""
    return rx.cond(
        has_connection_errors,
        rx.text(
            "Reconnecting… the figures are from " + DashboardState.figures_at + ".",
            size="1",
            color="var(--amber-11)",
        ),
        rx.cond(
            DashboardState.figures_stale,
            rx.hstack(
                rx.text(
                    "These figures may be out of date (last read "
                    + DashboardState.figures_at
                    + ").",
                    size="1",
                    color="var(--amber-11)",
                ),
                rx.button(
                    rx.icon("refresh-cw", size=12),
                    "Refresh",
                    size="1",
                    variant="soft",
                    on_click=DashboardState.refresh_figures,
                ),
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                DashboardState.figures_at != "",
                rx.text(
                    "Updated " + DashboardState.figures_at + " · follows new payments",
                    size="1",
                    color_scheme="gray",
                ),
            ),
        ),
    )


def card_heading(title: str, link: str, href: str) -> rx.Component:
    """A dashboard card's heading, with a link to the page that has the rest."""
    return rx.hstack(
        rx.heading(title, size="4", as_="h2"),
        rx.spacer(),
        rx.link(rx.hstack(rx.text(link), rx.icon("arrow-right", size=14)), href=href, size="2"),
        align="center",
        width="100%",
        wrap="wrap",
    )


def _balance_line(b: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.badge(b["currency"], variant="surface", min_width="3rem", justify_content="center"),
        rx.vstack(
            rx.text(
                rx.text.strong(b["available"]),
                " available · ",
                b["pending"],
                " pending",
                size="2",
            ),
            rx.text("Next payout: " + b["next_payout"], size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="3",
        width="100%",
    )


def balance_card() -> rx.Component:
    """The balance per currency and the next payout, in brief; the Balance page has the rest."""
    return rx.cond(
        DashboardState.balances.length() > 0,  # type: ignore[attr-defined]
        rx.card(
            rx.vstack(
                card_heading("Balance", "View balance", "/balance"),
                rx.grid(
                    rx.foreach(DashboardState.balances, _balance_line),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def _billing_figure(f: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(f["label"], size="2", color_scheme="gray"),
        rx.text(f["value"], size="5", weight="bold", class_name="pp-figure"),
        rx.text(f["note"], size="1", color_scheme="gray"),
        spacing="1",
        min_width="0",
        role="group",
        aria_label=f["label"],
    )


def billing_card() -> rx.Component:
    """Subscriptions at a glance, once the merchant has any: MRR, active, churn, recovery."""
    return rx.cond(
        BillingFiguresState.shown,
        rx.card(
            rx.vstack(
                card_heading("Subscriptions", "View subscriptions", "/billing/subscriptions"),
                rx.grid(
                    rx.foreach(BillingFiguresState.figures, _billing_figure),
                    columns=rx.breakpoints(initial="2", md="4"),
                    spacing="4",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def range_problem() -> rx.Component:
    return rx.callout(
        DashboardState.range_problem,
        icon="calendar-range",
        color_scheme="amber",
        role="status",
        width="100%",
    )


def charts() -> rx.Component:
    return rx.grid(
        rx.box(
            chart_card(
                "Volume over time",
                volume_chart(DashboardState.volume_series),
                ~DashboardState.has_volume,
                "No captured payments in this currency and range.",
            ),
            grid_column=rx.breakpoints(initial="auto", md="span 2"),
            min_width="0",
        ),
        chart_card(
            "By payment method",
            method_chart(DashboardState.method_series),
            DashboardState.method_series.length() == 0,  # type: ignore[attr-defined]
            "No captured payments in this currency and range.",
        ),
        chart_card(
            "Payments by currency",
            currency_chart(DashboardState.currency_series),
            DashboardState.currency_series.length() == 0,  # type: ignore[attr-defined]
            "No captured payments in this range.",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="3",
        width="100%",
    )


@portal_page(
    "/dashboard",
    "Dashboard",
    on_load=[
        OnboardingState.load,
        QuickstartState.load,
        DashboardState.load,
        BillingFiguresState.load,
        DashboardState.watch_live,
    ],
)
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.heading("Dashboard", size="7", as_="h1"),
                rx.text(DashboardState.range_label, size="2", color_scheme="gray"),
                figures_status(),
                spacing="1",
            ),
            rx.spacer(),
            rx.hstack(
                range_picker(),
                rx.cond(
                    DashboardState.currencies.length() > 0,  # type: ignore[attr-defined]
                    labelled_select(
                        DashboardState.currencies,
                        value=DashboardState.currency,
                        on_change=DashboardState.choose_currency,
                        label="Currency",
                    ),
                ),
                align="start",
                wrap="wrap",
                spacing="3",
            ),
            width="100%",
            spacing="3",
            direction=rx.breakpoints(initial="column", md="row"),
        ),
        rx.cond(
            DashboardState.error != "",
            rx.callout(DashboardState.error, color_scheme="red", role="alert", width="100%"),
        ),
        onboarding_checklist(),
        quickstart_card(),
        balance_card(),
        billing_card(),
        rx.cond(
            DashboardState.range_problem != "",
            range_problem(),
            rx.fragment(kpi_grid(DashboardState.kpis), charts()),
        ),
        live_feed(),
        spacing="5",
        width="100%",
    )
