"""Statements: the recent months with activity, each with its balance per currency at the
start and end of the month, and its PDF and CSV downloads."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_page
from portal.state.statements import StatementsState as S


def _download(label: str, href: rx.Var, icon: str, name: rx.Var) -> rx.Component:
    return rx.link(
        rx.button(rx.icon(icon, size=16), label, variant="soft", size="2"),
        href=href,
        download=True,
        is_external=True,
        aria_label=label + " statement for " + name,
    )


def _figure(f: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.badge(f["currency"], variant="surface", size="2"),
        rx.vstack(
            rx.hstack(
                rx.text(f["opening"], size="2", color_scheme="gray"),
                rx.icon("arrow-right", size=14, color="var(--gray-10)", aria_label="to"),
                rx.text(f["closing"], size="3", weight="bold"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text(f["change"] + " · " + f["count"], size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="3",
        width="100%",
    )


def _month(m: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(m["name"], size="4", as_="h2"),
                rx.cond(m["note"] != "", rx.badge(m["note"], color_scheme="amber")),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text("Opening → closing balance", size="1", color_scheme="gray"),
            rx.foreach(S.figures[m["key"].to(str)], _figure),
            rx.cond(
                S.can_download,
                rx.hstack(
                    _download("PDF", m["pdf"], "file-text", m["name"]),
                    _download("CSV", m["csv"], "sheet", m["name"]),
                    spacing="2",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/statements", "Statements", on_load=[S.load])
def statements_list() -> rx.Component:
    return rx.vstack(
        rx.heading("Statements", size="7", as_="h1"),
        rx.text(
            "Your balance month by month: what it was when the month began, every movement "
            "booked in the month (charges, fees, refunds, disputes, payouts) and what it was "
            "when the month ended, pending funds included. Months without activity are not "
            "listed.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red")),
        rx.cond(
            S.loaded & (S.months.length() == 0) & (S.error == ""),  # type: ignore[attr-defined]
            rx.text("No activity in the last 12 months.", size="2", color_scheme="gray"),
        ),
        rx.grid(
            rx.foreach(S.months, _month),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
