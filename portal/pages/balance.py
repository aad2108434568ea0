"""Balance: what is available, pending and on its way per currency, the next payout, Pay out,
the payout schedule, the payouts and the balance transactions; one payout with what it paid
out."""

from __future__ import annotations

import reflex as rx

from portal.components.balance import (
    balance_card,
    paid_out_list,
    paid_out_summary,
    payout_badge,
    payout_dialog,
    payouts_card,
    schedule_card,
    schedule_dialog,
    transaction_filters,
    transactions_table,
)
from portal.components.detail_page import detail_page, fact
from portal.components.layout import portal_page
from portal.components.list_page import list_error, paged_results
from portal.state.balance import BalanceState
from portal.state.payout_detail import PayoutDetailState


def _outcome(text: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(
            text != "",
            rx.callout(text, icon="circle-check", color_scheme="green", width="100%"),
        ),
        role="status",
        width="100%",
    )


@portal_page("/balance", "Balance", on_load=[BalanceState.load])
def balance() -> rx.Component:
    s = BalanceState
    return rx.vstack(
        rx.heading("Balance", size="7", as_="h1"),
        rx.text(
            "Available funds can be paid out; pending funds become available after your payout "
            "delay; payouts in transit are on their way to your bank.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            s.page_error != "",
            rx.callout(s.page_error, icon="triangle-alert", color_scheme="red", width="100%"),
        ),
        _outcome(s.outcome),
        rx.grid(
            rx.foreach(s.cards, balance_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        rx.grid(
            schedule_card(),
            payouts_card(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Balance transactions", size="5", as_="h2"),
        transaction_filters(),
        list_error(s),
        paged_results(
            s,
            transactions_table(s.rows),
            rx.text("No balance transactions match.", size="2", color_scheme="gray"),
        ),
        payout_dialog(),
        schedule_dialog(),
        spacing="4",
        width="100%",
    )


def _actions() -> rx.Component:
    s = PayoutDetailState
    return rx.hstack(
        rx.cond(
            s.can_cancel,
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.button("Cancel payout", color_scheme="red", variant="soft")
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Cancel this payout?"),
                    rx.alert_dialog.description(
                        "Its amount becomes available again. A payout already on its way to "
                        "the bank cannot be called back.",
                        size="2",
                    ),
                    rx.cond(
                        s.action_error != "",
                        rx.callout(s.action_error, color_scheme="red", size="1", margin_top="1rem"),
                    ),
                    rx.flex(
                        rx.alert_dialog.cancel(
                            rx.button("Keep it", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Cancel payout", color_scheme="red", on_click=s.confirm_cancel),
                        spacing="2",
                        justify="end",
                        margin_top="1rem",
                    ),
                ),
                open=s.cancel_open,
                on_open_change=s.set_cancel_open,
            ),
        ),
        rx.cond(
            s.can_simulate,
            rx.button(
                rx.icon("undo-2", size=16),
                "Simulate a bank return (R01)",
                variant="soft",
                color_scheme="orange",
                on_click=s.simulate_return,
                loading=s.working,
            ),
        ),
        wrap="wrap",
        spacing="2",
    )


@portal_page("/balance/payouts/[payout_id]", "Payout", on_load=[PayoutDetailState.load])
def payout_detail() -> rx.Component:
    s = PayoutDetailState
    p = s.payout
    return detail_page(
        s,
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(p["amount"], size="7", as_="h1"),
                    payout_badge(p["status"], p["status_label"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(p["kind"], size="2", color_scheme="gray"),
                rx.text(p["id"], size="1", color_scheme="gray", font_family="monospace"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            _actions(),
            width="100%",
            spacing="3",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        _outcome(s.outcome),
        rx.cond(
            (s.action_error != "") & ~s.cancel_open,
            rx.callout(s.action_error, color_scheme="red", role="alert", width="100%"),
        ),
        rx.cond(
            p["failure"] != "",
            rx.callout(p["failure"], icon="triangle-alert", color_scheme="red", width="100%"),
        ),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Details", size="4", as_="h2"),
                    fact("Amount", p["amount"]),
                    fact("Status", p["status_label"]),
                    fact("Created", p["created"]),
                    fact("Expected arrival", p["arrival"]),
                    rx.cond(p["ended_label"] != "", fact(p["ended_label"], p["ended"])),
                    fact("Bank account", p["bank"]),
                    fact("Statement description", p["description"]),
                    spacing="2",
                    width="100%",
                ),
                width="100%",
                min_width="0",
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Transactions paid out", size="4", as_="h2"),
                    rx.cond(
                        s.note != "",
                        rx.text(s.note, size="2", color_scheme="gray"),
                        rx.vstack(paid_out_summary(), paid_out_list(), spacing="4", width="100%"),
                    ),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
                min_width="0",
                grid_column=rx.breakpoints(initial="auto", md="span 2"),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        noun="payout",
        list_href="/balance",
        list_title="Balance",
    )
