"""The Balance page's and the payout page's views: the balance cards, the Pay out and schedule
dialogs, the payouts and balance transactions tables (stacked rows on a phone)."""

from __future__ import annotations

import reflex as rx

from portal.components.payments_table import labelled_select
from portal.state.balance import INTERVALS, WEEKDAYS, BalanceState
from portal.state.payout_detail import PayoutDetailState

PHONE_HIDDEN = ["none", "none", "table-cell"]
PAYOUT_COLORS = {
    "pending": "amber",
    "in_transit": "blue",
    "paid": "green",
    "failed": "red",
    "returned": "red",
    "canceled": "gray",
}


def payout_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(status, *PAYOUT_COLORS.items(), "gray"))


def figure(label: str, value: rx.Var, *, strong: bool = False, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(
            value,
            size="5" if strong else "3",
            weight="bold" if strong else "medium",
            overflow_wrap="anywhere",
        ),
        spacing="0",
        min_width="0",
        **props,
    )


def balance_card(c: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(c["currency"], variant="surface", size="2"),
                rx.spacer(),
                rx.cond(
                    BalanceState.can_pay_out,
                    rx.button(
                        rx.icon("banknote", size=16),
                        "Pay out",
                        size="2",
                        on_click=BalanceState.open_payout(c["currency"]),
                        aria_label="Pay out " + c["currency"].to(str),
                    ),
                ),
                width="100%",
                align="center",
            ),
            rx.grid(
                # The available figure gets a row of its own on a phone: wide amounts
                # (CA$12,345.67) never run into their neighbours.
                figure(
                    "Available",
                    c["available"],
                    strong=True,
                    grid_column=rx.breakpoints(initial="span 2", sm="auto"),
                ),
                figure("Pending", c["pending"]),
                figure("In transit", c["in_transit"]),
                columns=rx.breakpoints(initial="2", sm="3"),
                spacing="3",
                width="100%",
            ),
            rx.separator(width="100%"),
            rx.vstack(
                rx.text("Next payout", size="1", color_scheme="gray"),
                rx.cond(
                    c["needs_bank"] == "1",
                    rx.link(c["next_payout"], href="/settings/bank", size="2", weight="medium"),
                    rx.text(c["next_payout"], size="2", weight="medium"),
                ),
                rx.cond(
                    c["next_note"] != "", rx.text(c["next_note"], size="1", color_scheme="gray")
                ),
                spacing="0",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        role="group",
        aria_label="Balance in " + c["currency"].to(str),
        width="100%",
        min_width="0",
    )


def payout_dialog() -> rx.Component:
    s = BalanceState
    form = rx.form(
        rx.vstack(
            rx.el.label("Currency", html_for="payout-currency", class_name="pp-label"),
            rx.select.root(
                rx.select.trigger(id="payout-currency", aria_label="Currency"),
                rx.select.content(
                    rx.foreach(
                        s.cards, lambda c: rx.select.item(c["currency"], value=c["currency"])
                    )
                ),
                value=s.payout_currency,
                on_change=s.set_payout_currency,
            ),
            rx.el.label("Amount", html_for="payout-amount", class_name="pp-label"),
            rx.input(
                id="payout-amount",
                name="amount",
                value=s.payout_amount,
                on_change=s.set_payout_amount,
                placeholder="Everything available",
                input_mode="decimal",
                width="100%",
            ),
            rx.text("Leave empty to pay out everything available.", size="1", color_scheme="gray"),
            rx.cond(
                s.payout_error != "",
                rx.callout(
                    s.payout_error, color_scheme="red", size="1", role="alert", width="100%"
                ),
            ),
            rx.flex(
                rx.dialog.close(
                    rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                ),
                rx.button("Continue", type="submit"),
                spacing="2",
                justify="end",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=s.review_payout,
        reset_on_submit=False,
        width="100%",
    )
    confirm = rx.vstack(
        rx.text(s.payout_summary, size="3", weight="medium"),
        rx.text(
            "The money leaves your available balance now and reaches the bank in about one "
            "business day.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            s.payout_error != "",
            rx.callout(s.payout_error, color_scheme="red", size="1", role="alert", width="100%"),
        ),
        rx.flex(
            rx.button("Back", variant="soft", color_scheme="gray", on_click=s.back_to_payout_form),
            rx.button("Confirm payout", on_click=s.confirm_payout, loading=s.payout_pending),
            spacing="2",
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Pay out now"),
            rx.dialog.description(
                "Send your available balance to your bank account.",
                size="2",
                margin_bottom="1rem",
            ),
            rx.cond(s.payout_confirming, confirm, form),
            max_width="26rem",
        ),
        open=s.payout_open,
        on_open_change=s.set_payout_open,
    )


def schedule_row(c: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.badge(c["currency"], variant="surface", min_width="3rem", justify_content="center"),
        rx.vstack(
            rx.text(c["schedule"], size="2", weight="medium"),
            rx.text(c["minimum_words"], size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.cond(
            BalanceState.can_pay_out,
            rx.button(
                "Edit",
                size="1",
                variant="soft",
                on_click=BalanceState.open_schedule(c["currency"]),
                aria_label="Edit the " + c["currency"].to(str) + " payout schedule",
            ),
        ),
        align="center",
        width="100%",
    )


def schedule_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Payout schedule", size="4", as_="h2"),
            rx.text(
                "Automatic payouts send everything available on the days you choose.",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(BalanceState.cards, schedule_row),
            rx.separator(width="100%"),
            rx.hstack(
                rx.icon("landmark", size=16, color="var(--gray-10)"),
                rx.cond(
                    BalanceState.bank != "",
                    rx.text("Paid to " + BalanceState.bank, size="2"),
                    rx.link("Add a bank account to be paid", href="/settings/bank", size="2"),
                ),
                align="center",
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        min_width="0",
    )


def schedule_dialog() -> rx.Component:
    s = BalanceState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Payout schedule · " + s.schedule_currency),
            rx.form(
                rx.vstack(
                    rx.el.label("How often", html_for="schedule-interval", class_name="pp-label"),
                    rx.select.root(
                        rx.select.trigger(id="schedule-interval", aria_label="How often"),
                        rx.select.content(
                            *(rx.select.item(label, value=code) for code, label in INTERVALS)
                        ),
                        value=s.schedule_interval,
                        on_change=s.set_schedule_interval,
                    ),
                    rx.cond(
                        s.schedule_interval == "weekly",
                        labelled_select(
                            [code for code, _ in WEEKDAYS],
                            value=s.schedule_weekday,
                            on_change=s.set_schedule_weekday,
                            label="Weekday",
                            names=dict((code, day) for code, day in WEEKDAYS),
                        ),
                    ),
                    rx.cond(
                        s.schedule_interval == "monthly",
                        rx.vstack(
                            rx.el.label(
                                "Day of the month", html_for="schedule-day", class_name="pp-label"
                            ),
                            rx.input(
                                id="schedule-day",
                                name="day",
                                type="number",
                                min="1",
                                max="31",
                                value=s.schedule_day,
                                on_change=s.set_schedule_day,
                            ),
                            rx.text(
                                "A shorter month pays on its last day.",
                                size="1",
                                color_scheme="gray",
                            ),
                            spacing="1",
                        ),
                    ),
                    rx.el.label(
                        "Minimum amount", html_for="schedule-minimum", class_name="pp-label"
                    ),
                    rx.input(
                        id="schedule-minimum",
                        name="minimum",
                        value=s.schedule_minimum,
                        on_change=s.set_schedule_minimum,
                        placeholder="No minimum",
                        input_mode="decimal",
                        width="100%",
                    ),
                    rx.cond(
                        s.schedule_error != "",
                        rx.callout(
                            s.schedule_error,
                            color_scheme="red",
                            size="1",
                            role="alert",
                            width="100%",
                        ),
                    ),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Save schedule", type="submit"),
                        spacing="2",
                        justify="end",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=s.save_schedule,
                reset_on_submit=False,
                width="100%",
            ),
            max_width="26rem",
        ),
        open=s.schedule_open,
        on_open_change=s.set_schedule_open,
    )


def _payout_row(p: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                p["amount"],
                href="/balance/payouts/" + p["id"].to(str),
                weight="medium",
                aria_label="Payout " + p["amount"].to(str) + " " + p["created"].to(str),
            ),
            rx.text(p["kind"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(payout_badge(p["status"], p["status_label"])),
        rx.table.cell(p["created"], display=PHONE_HIDDEN, white_space="nowrap"),
        rx.table.cell(p["arrival"], white_space="nowrap"),
    )


def payouts_card() -> rx.Component:
    s = BalanceState
    return rx.card(
        rx.vstack(
            rx.heading("Payouts", size="4", as_="h2"),
            rx.cond(
                s.payouts.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.box(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Amount"),
                                    rx.table.column_header_cell("Status"),
                                    rx.table.column_header_cell("Created", display=PHONE_HIDDEN),
                                    rx.table.column_header_cell("Arrives"),
                                )
                            ),
                            rx.table.body(rx.foreach(s.payouts, _payout_row)),
                            size="2",
                            width="100%",
                        ),
                        width="100%",
                        overflow_x="auto",
                    ),
                    rx.cond(
                        s.payouts_more,
                        rx.button("More payouts", variant="soft", on_click=s.more_payouts),
                    ),
                    align="center",
                    width="100%",
                ),
                rx.text("No payouts yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        min_width="0",
    )


def _money_cell(*children: rx.Component | rx.Var, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.table.cell(
        *children, text_align="right", white_space="nowrap", class_name="pp-figure", **props
    )


def transaction_row(t: rx.Var) -> rx.Component:
    """The type, description, date and source stacked (a phone shows only this and the net);
    wider screens add the status and when pending funds become available."""
    return rx.table.row(
        rx.table.cell(
            rx.text(t["type"], size="2", weight="medium"),
            rx.cond(
                t["description"] != "",
                rx.text(t["description"], size="1", color_scheme="gray", overflow_wrap="anywhere"),
            ),
            rx.text(t["date"], size="1", color_scheme="gray"),
            rx.cond(t["href"] != "", rx.link(t["source"], href=t["href"], size="1")),
            min_width="0",
        ),
        rx.table.cell(
            rx.text(t["status"], size="2"),
            rx.text(t["available_on"], size="1", color_scheme="gray"),
            display=PHONE_HIDDEN,
        ),
        _money_cell(
            rx.text(
                t["net"],
                size="2",
                weight="medium",
                color=rx.cond(t["negative"] == "1", "var(--red-11)", "inherit"),
            ),
            rx.cond(t["fee"] != "", rx.text(t["fee"], size="1", color_scheme="gray")),
        ),
    )


def transactions_table(rows: rx.Var) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Transaction"),
                    rx.table.column_header_cell("Status", display=PHONE_HIDDEN),
                    rx.table.column_header_cell("Net", text_align="right"),
                )
            ),
            rx.table.body(rx.foreach(rows, transaction_row)),
            size="2",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def transaction_filters() -> rx.Component:
    s = BalanceState
    return rx.flex(
        rx.select.root(
            rx.select.trigger(aria_label="Type"),
            rx.select.content(
                rx.foreach(s.type_choices, lambda c: rx.select.item(c[1], value=c[0]))
            ),
            value=s.type_filter,
            on_change=s.choose_type,
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Currency"),
            rx.select.content(
                rx.foreach(
                    s.currency_choices,
                    lambda c: rx.select.item(rx.cond(c == "all", "All currencies", c), value=c),
                )
            ),
            value=s.currency_filter,
            on_change=s.choose_currency,
        ),
        rx.spacer(),
        rx.cond(
            s.can_export & (s.export_url != ""),
            rx.link(
                rx.button(rx.icon("download", size=16), "Export CSV", variant="soft"),
                href=s.export_url,
                download=True,
                is_external=True,
                aria_label="Export these balance transactions as CSV",
            ),
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


# -- the payout page ---------------------------------------------------------------------


def _line(line: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line["label"]),
        rx.table.cell(line["count"], text_align="right"),
        _money_cell(line["net"]),
    )


def paid_out_summary() -> rx.Component:
    """What the payout paid out, summed by type, and the total that equals the payout."""
    s = PayoutDetailState
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Type"),
                    rx.table.column_header_cell("Count", text_align="right"),
                    rx.table.column_header_cell("Net", text_align="right"),
                )
            ),
            rx.table.body(
                rx.foreach(s.lines, _line),
                rx.table.row(
                    rx.table.cell(
                        rx.text("Total paid out", weight="bold", size="2"),
                        # Under the words, not in the count column: a phone has no room.
                        rx.cond(
                            s.adds_up,
                            rx.badge("Equals the payout", color_scheme="green"),
                            rx.badge("Does not match", color_scheme="red"),
                        ),
                    ),
                    rx.table.cell(),
                    _money_cell(
                        s.total,
                        font_weight="700",
                        border_top="2px solid var(--gray-8)",
                        aria_label="Total paid out",
                    ),
                ),
            ),
            size="1",
            width="100%",
            aria_label="Paid out by type",
        ),
        width="100%",
        overflow_x="auto",
    )


def paid_out_list() -> rx.Component:
    s = PayoutDetailState
    return rx.vstack(
        rx.flex(
            rx.text(
                s.count + rx.cond(s.transactions.length() < 50, "", ", the newest 50 shown"),  # type: ignore[attr-defined]
                size="2",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.cond(
                s.can_export,
                rx.link(
                    rx.button(rx.icon("download", size=16), "Export CSV", variant="soft", size="1"),
                    href=s.csv,
                    download=True,
                    is_external=True,
                    aria_label="Export the transactions this payout paid out as CSV",
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        transactions_table(s.transactions),
        spacing="2",
        width="100%",
    )
