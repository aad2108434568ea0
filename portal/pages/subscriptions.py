"""Subscriptions: the list (customer, plan, amount per interval, status in words, next
renewal) filtered by status; one subscription with its items, period, trial, card, invoices
and timeline, and its actions (cancel now or at the period's end, pause or resume collection,
change a quantity)."""

from __future__ import annotations

import reflex as rx

from portal.components.billing import (
    billing_detail_page,
    billing_list_page,
    confirm_dialog,
    facts_list,
    invoices_table,
    plain_list,
    section,
    timeline_card,
    tone_badge,
    two_columns,
)
from portal.components.layout import portal_page
from portal.components.list_page import list_table
from portal.components.payments_table import PHONE_HIDDEN, SMALL_HIDDEN
from portal.state.subscriptions import (
    STATUS_CHOICES,
    SubscriptionDetailState,
    SubscriptionsState,
)


def _row(s: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                s["customer"],
                href="/billing/subscriptions/" + s["id"].to(str),
                weight="medium",
                aria_label="Subscription of " + s["customer"].to(str),
                overflow_wrap="anywhere",
            ),
            rx.text(s["plan"], size="1", color_scheme="gray"),
            # Phones have no room for the amount and renewal columns: under the plan instead.
            rx.text(
                s["amount"] + " · " + s["renewal"],
                size="1",
                color_scheme="gray",
                display=["block", "none"],
            ),
            min_width="0",
        ),
        rx.table.cell(rx.text(s["amount"], size="2"), display=SMALL_HIDDEN),
        rx.table.cell(tone_badge(s["tone"], s["status_label"])),
        rx.table.cell(rx.text(s["renewal"], size="2"), display=PHONE_HIDDEN),
    )


@portal_page("/billing/subscriptions", "Subscriptions", on_load=[SubscriptionsState.load])
def subscriptions_list() -> rx.Component:
    S = SubscriptionsState
    return billing_list_page(
        S,
        title="Subscriptions",
        intro="Who pays you again and again: each customer's plan, what it bills and when it "
        "renews.",
        choices=STATUS_CHOICES,
        table=list_table(
            [
                rx.table.column_header_cell("Customer and plan"),
                rx.table.column_header_cell("Amount", display=SMALL_HIDDEN),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Next renewal", display=PHONE_HIDDEN),
            ],
            S.rows,
            _row,
        ),
        empty="No subscriptions yet. Create one through the API (POST /api/subscriptions) "
        "for a customer with a saved card.",
    )


def _item(i: rx.Var) -> rx.Component:
    S = SubscriptionDetailState
    editing = S.editing_item == i["id"]
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.text(i["product"], size="2", weight="medium"),
                rx.text(
                    i["price"] + " · quantity " + i["quantity"].to(str),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="0",
                min_width="0",
            ),
            rx.hstack(
                rx.text(i["amount"], size="2", weight="medium", white_space="nowrap"),
                rx.cond(
                    S.can_manage & S.actions["quantity"] & ~editing,
                    rx.button(
                        "Change quantity",
                        size="1",
                        variant="soft",
                        on_click=S.edit_quantity(i["id"]),
                        aria_label="Change the quantity of " + i["product"].to(str),
                    ),
                ),
                align="center",
                spacing="3",
            ),
            justify="between",
            align="center",
            wrap="wrap",
            spacing="2",
            width="100%",
        ),
        rx.cond(
            editing,
            rx.form(
                rx.flex(
                    rx.vstack(
                        rx.el.label("New quantity", html_for="quantity", class_name="pp-label"),
                        rx.input(
                            id="quantity",
                            name="quantity",
                            type="number",
                            min=1,
                            default_value=i["quantity"],
                            required=True,
                            width="8rem",
                        ),
                        spacing="1",
                    ),
                    rx.button("Save quantity", type="submit"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.stop_editing,
                    ),
                    align="end",
                    wrap="wrap",
                    spacing="2",
                ),
                on_submit=S.save_quantity,
                reset_on_submit=False,
                margin_top="0.5rem",
            ),
        ),
        style={"listStyle": "none"},
    )


def _actions() -> rx.Component:
    S = SubscriptionDetailState
    return rx.cond(
        S.can_manage,
        rx.flex(
            rx.cond(
                S.actions["cancel_at_period_end"],
                rx.button(
                    "Cancel at period end",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.ask_cancel("period_end"),
                ),
            ),
            rx.cond(
                S.actions["undo_cancel"],
                rx.button("Keep renewing", variant="soft", on_click=S.keep),
            ),
            rx.cond(
                S.actions["cancel"],
                rx.button("Cancel now", color_scheme="red", on_click=S.ask_cancel("now")),
            ),
            rx.cond(
                S.actions["pause"],
                rx.button(
                    "Pause collection", variant="soft", color_scheme="gray", on_click=S.pause
                ),
            ),
            rx.cond(
                S.actions["resume"],
                rx.button("Resume collection", variant="soft", on_click=S.resume),
            ),
            wrap="wrap",
            spacing="2",
        ),
    )


def _confirm_cancel() -> rx.Component:
    S = SubscriptionDetailState
    now = S.confirm == "now"
    return confirm_dialog(
        rx.cond(now, "Cancel this subscription now?", "Cancel at the period's end?"),
        rx.cond(
            now,
            "It ends at once and bills nothing more. Invoices already paid are not refunded. "
            "This cannot be undone.",
            "It keeps running until the current period ends, then stops renewing. You can take "
            "this back until then.",
        ),
        rx.cond(now, "Cancel now", "Cancel at period end"),
        open_=S.confirm != "",
        on_open_change=S.close_confirm,
        on_ok=S.cancel(S.confirm),
    )


@portal_page(
    "/billing/subscriptions/[subscription_id]",
    "Subscription",
    on_load=[SubscriptionDetailState.load],
)
def subscription_detail() -> rx.Component:
    S = SubscriptionDetailState
    sub = S.sub
    return billing_detail_page(
        S,
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(sub["plan"], size="7", as_="h1", overflow_wrap="anywhere"),
                    tone_badge(sub["tone"], sub["status_label"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    sub["amount"] + " · ",
                    rx.link(sub["customer"], href="/customers/" + sub["customer_id"].to(str)),
                    size="2",
                ),
                rx.text(sub["id"], size="1", color_scheme="gray", font_family="monospace"),
                spacing="1",
                min_width="0",
            ),
            _actions(),
            justify="between",
            align="start",
            wrap="wrap",
            spacing="3",
            width="100%",
        ),
        _confirm_cancel(),
        two_columns(
            section("Items", plain_list(S.items, _item, "Items")),
            section("Billing", facts_list(S.facts)),
        ),
        section(
            "Invoices",
            rx.cond(
                S.invoices.length() > 0,  # type: ignore[attr-defined]
                invoices_table(S.invoices),
                rx.text("No invoices yet.", size="2", color_scheme="gray"),
            ),
            rx.cond(S.more_invoices, rx.link("All invoices", href="/billing/invoices", size="2")),
        ),
        timeline_card(S.timeline),
        noun="subscription",
        list_href="/billing/subscriptions",
        list_title="Subscriptions",
    )
