"""/reconciliation: where our records and Stripe's (or the payout rail's) disagree, with both
sides' records side by side; a run on demand, resolving with a note, the resolved list, CSV."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import alert
from portal.components.layout import portal_page
from portal.state.reconciliation import EXPORT_HREF, ReconciliationState

S = ReconciliationState
KIND_COLORS = {
    "missing_ours": "amber",
    "missing_theirs": "red",
    "amount_differs": "red",
    "fee_differs": "amber",
    "payout_returned": "red",
}


def side(title: rx.Var | str, text: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(title, size="1", weight="medium", color_scheme="gray"),
        rx.text(text, size="1", white_space="pre-line", overflow_wrap="anywhere"),
        background="var(--gray-2)",
        border_radius="var(--radius-2)",
        padding="0.5rem",
        min_width="0",
    )


def resolve_form(row: rx.Var) -> rx.Component:
    field_id = "note-" + row["id"].to(str)
    return rx.cond(
        S.resolving == row["id"],
        rx.vstack(
            rx.el.label(
                "What was done about it (required)", html_for=field_id, class_name="pp-label"
            ),
            rx.text_area(
                id=field_id,
                value=S.note,
                on_change=S.set_note,
                placeholder="e.g. Stripe refunded the fee difference on 3 March",
                width="100%",
                rows="3",
            ),
            rx.hstack(
                rx.button("Resolve", on_click=S.resolve, disabled=S.note.strip() == ""),
                rx.button(
                    "Cancel", variant="soft", color_scheme="gray", on_click=S.cancel_resolving
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        rx.cond(
            S.can_reconcile,
            rx.button(
                "Resolve…",
                variant="soft",
                size="1",
                on_click=S.start_resolving(row["id"]),
                aria_label="Resolve " + row["what"].to(str) + " for " + row["about"].to(str),
            ),
        ),
    )


def exception_card(row: rx.Var, *, resolved: bool) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(
                    row["what"], color_scheme=rx.match(row["kind"], *KIND_COLORS.items(), "gray")
                ),
                rx.spacer(),
                rx.text(row["found"], size="1", color_scheme="gray"),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(row["about"], size="2", weight="medium", overflow_wrap="anywhere"),
            rx.text(
                "Ours " + row["expected"].to(str) + " · theirs " + row["actual"].to(str),
                size="1",
                color_scheme="gray",
            ),
            rx.grid(
                side("Our records", row["ours"]),
                side(row["where"], row["theirs"]),
                columns="2",
                spacing="2",
                width="100%",
            ),
            resolve_form(row)
            if not resolved
            else rx.text(
                "Resolved "
                + row["resolved"].to(str)
                + " by "
                + row["resolved_by"].to(str)
                + ": "
                + row["note"].to(str),
                size="1",
                overflow_wrap="anywhere",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.heading("Reconciliation", size="7", as_="h1"),
        rx.spacer(),
        rx.cond(
            S.can_reconcile,
            rx.button(
                rx.icon("refresh-cw", size=16),
                rx.cond(S.running, "Running…", "Run reconciliation"),
                loading=S.running,
                on_click=S.run_now,
            ),
        ),
        rx.cond(
            S.can_export,
            # rx.download clicks a plain anchor: the app's router must not take the URL.
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                variant="soft",
                on_click=rx.download(url=EXPORT_HREF),
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
        spacing="2",
    )


@portal_page("/reconciliation", "Reconciliation", on_load=[S.load])
def reconciliation() -> rx.Component:
    return rx.vstack(
        header(),
        rx.text(
            "Every day we compare your payments, refunds, disputes and payouts with what Stripe "
            "and the bank transfers report. Anything that does not match is listed here.",
            size="2",
            color_scheme="gray",
        ),
        alert(S.error),
        alert(S.notice, color="green", icon="circle-check"),
        rx.heading("Open", size="4", as_="h2"),
        rx.cond(
            S.open_rows.length() > 0,
            rx.vstack(
                rx.foreach(S.open_rows, lambda r: exception_card(r, resolved=False)),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                S.loaded,
                rx.text("Nothing to look at: everything matches.", size="2", color_scheme="gray"),
            ),
        ),
        rx.heading("Resolved", size="4", as_="h2"),
        rx.cond(
            S.resolved_rows.length() > 0,
            rx.vstack(
                rx.foreach(S.resolved_rows, lambda r: exception_card(r, resolved=True)),
                spacing="3",
                width="100%",
            ),
            rx.text("None yet.", size="2", color_scheme="gray"),
        ),
        spacing="4",
        width="100%",
    )
