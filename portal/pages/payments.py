"""Payments: the searchable, filterable list; one payment with its money, timeline, risk,
refunds and webhooks, and the capture, void and refund actions."""

from __future__ import annotations

import reflex as rx

from portal.components.detail_page import detail_page
from portal.components.layout import portal_page
from portal.components.list_page import list_error, paged_results
from portal.components.payment_actions import (
    actions,
    block_row,
    review_panel,
)
from portal.components.payment_filters import (
    filters,
    no_results,
    range_problem,
)
from portal.components.payments_table import payments_table, status_badge
from portal.state.payment_detail import PaymentDetailState
from portal.state.payments import (
    PaymentsState,
)


@portal_page("/payments", "Payments", on_load=[PaymentsState.load])
def payments_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Payments", size="7", as_="h1"),
            rx.spacer(),
            rx.cond(
                PaymentsState.can_export & (PaymentsState.export_url != ""),
                rx.link(
                    rx.button(rx.icon("download", size=16), "Export CSV", variant="soft"),
                    href=PaymentsState.export_url,
                    download=True,
                    is_external=True,
                    aria_label="Export these payments as CSV",
                ),
            ),
            width="100%",
            align="center",
        ),
        filters(),
        list_error(PaymentsState),
        rx.cond(
            PaymentsState.range_problem != "",
            range_problem(),
            paged_results(PaymentsState, payments_table(PaymentsState.rows), no_results()),
        ),
        spacing="4",
        width="100%",
    )


def fact(label: str, value: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.text(value, size="2", weight="medium", text_align="right", min_width="0"),
        width="100%",
        align="start",
    )


def section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="2", width="100%"),
        width="100%",
        min_width="0",
    )


def money_card() -> rx.Component:
    p = PaymentDetailState.payment
    return section(
        "Money",
        fact("Amount", p["amount"]),
        fact("Captured", p["captured"]),
        fact("Refunded", p["refunded"]),
        rx.separator(width="100%"),
        fact("Platform fee", p["platform_fee"]),
        fact("Processor fee", p["gateway_fee"]),
        fact("Total fees", p["fees"]),
        rx.cond(
            p["returned"] != "",
            rx.fragment(
                rx.separator(width="100%"),
                fact("Returned by the bank", p["returned"]),
                fact("Platform fee given back", p["fee_back"]),
                fact("Bank return fee", p["return_fee"]),
            ),
        ),
        rx.separator(width="100%"),
        fact("Net to you", p["net"]),
    )


def details_card() -> rx.Component:
    p = PaymentDetailState.payment
    return section(
        "Details",
        fact("Created", p["created"]),
        fact("Customer", p["customer"]),
        fact("Payment method", p["method"]),
        rx.cond(
            p["bank"] != "",
            rx.fragment(),
            rx.fragment(fact("Card", p["card"]), fact("Expiry", p["expiry"])),
        ),
        fact("Gateway", p["gateway"]),
        fact("Order", p["order"]),
        rx.cond(
            p["customer_id"] != "",
            rx.link("View customer", href="/customers/" + p["customer_id"].to(str), size="2"),
        ),
    )


def bank_card() -> rx.Component:
    """A bank payment (ACH): where it stands, and the mandate the customer accepted."""
    p = PaymentDetailState.payment
    return rx.cond(
        p["bank"] != "",
        section(
            "Bank debit",
            rx.text(p["bank_state"], size="2"),
            rx.separator(width="100%"),
            rx.heading("Mandate", size="3", as_="h3"),
            rx.text(p["mandate"], size="2", color_scheme="gray"),
            fact("Accepted", p["mandate_accepted"]),
        ),
    )


def risk_signal(reason: rx.Var) -> rx.Component:
    return rx.el.li(
        # Beside the first line of a sentence that wraps.
        rx.icon(
            "triangle-alert", size=14, color="var(--amber-10)", flex_shrink="0", margin_top="3px"
        ),
        rx.text(reason, size="2"),
        display="flex",
        gap="var(--space-2)",
        align_items="flex-start",
    )


def risk_card() -> rx.Component:
    p = PaymentDetailState.payment
    return section(
        "Risk",
        fact("Decision", p["risk_decision"]),
        fact("Score (0-100)", p["risk_score"]),
        review_panel(),
        rx.cond(
            PaymentDetailState.risk_reasons.length() > 0,  # type: ignore[attr-defined]
            # Sentences (risk.describe_reason), one a line: they wrap on a phone, badges don't.
            rx.el.ul(
                rx.foreach(PaymentDetailState.risk_reasons, risk_signal),
                aria_label="Risk signals",
                display="flex",
                flex_direction="column",
                gap="var(--space-1)",
                margin="0",
                padding="0",
                list_style="none",
            ),
            rx.text("No risk signals.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            PaymentDetailState.blockable.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.separator(width="100%"),
                rx.foreach(PaymentDetailState.blockable, block_row),
                # Shown inline (no live region of its own: the page's one status region is the
                # refund's and capture's), beside the button that turned into a badge.
                rx.cond(
                    PaymentDetailState.block_error != "",
                    rx.text(PaymentDetailState.block_error, size="2", color="var(--red-11)"),
                ),
                rx.cond(
                    PaymentDetailState.block_message != "",
                    rx.text(PaymentDetailState.block_message, size="2", color="var(--green-11)"),
                ),
                spacing="2",
                width="100%",
            ),
        ),
    )


def refunds_card() -> rx.Component:
    return section(
        "Refunds",
        rx.cond(
            PaymentDetailState.refunds.length() > 0,  # type: ignore[attr-defined]
            rx.foreach(
                PaymentDetailState.refunds,
                lambda r: rx.box(
                    fact(r["date"], r["amount"] + " · " + r["status"]),
                    rx.text(r["reason"], size="1", color_scheme="gray"),
                    rx.cond(r["failure"] != "", rx.text(r["failure"], size="1", color="red")),
                    width="100%",
                ),
            ),
            rx.text("No refunds.", size="2", color_scheme="gray"),
        ),
    )


def routing_card() -> rx.Component:
    return section(
        "Routing",
        rx.cond(
            PaymentDetailState.routing.length() > 0,  # type: ignore[attr-defined]
            rx.el.ol(
                rx.foreach(
                    PaymentDetailState.routing,
                    lambda step: rx.el.li(
                        rx.text(
                            step["processor"] + ": " + step["outcome"], size="2", weight="medium"
                        ),
                        rx.text("Why: " + step["reason"], size="1"),
                        padding_left="0.75rem",
                        border_left="2px solid var(--accent-6)",
                        padding_bottom="0.5rem",
                        list_style="none",
                    ),
                ),
                margin="0",
                padding="0",
                width="100%",
                aria_label="Routing",
            ),
            rx.text("No processor was asked (blocked by risk).", size="2"),
        ),
    )


def timeline_card() -> rx.Component:
    return section(
        "Timeline",
        rx.el.ol(
            rx.foreach(
                PaymentDetailState.timeline,
                lambda e: rx.el.li(
                    rx.text(e["title"], size="2", weight="medium"),
                    rx.text(
                        e["date"] + rx.cond(e["actor"] != "", " · " + e["actor"], ""),
                        size="1",
                        color_scheme="gray",
                    ),
                    rx.cond(e["detail"] != "", rx.text(e["detail"], size="1")),
                    padding_left="0.75rem",
                    border_left="2px solid var(--accent-6)",
                    padding_bottom="0.5rem",
                    list_style="none",
                ),
            ),
            margin="0",
            padding="0",
            width="100%",
            aria_label="Timeline",
        ),
    )


def webhooks_card() -> rx.Component:
    return section(
        "Webhooks sent",
        rx.cond(
            PaymentDetailState.webhooks.length() > 0,  # type: ignore[attr-defined]
            rx.foreach(
                PaymentDetailState.webhooks,
                lambda w: rx.box(
                    rx.text(w["event"], size="2", weight="medium"),
                    rx.text(w["date"], size="1", color_scheme="gray"),
                    rx.text(w["summary"], size="1", overflow_wrap="anywhere"),
                    width="100%",
                    padding_bottom="0.5rem",
                ),
            ),
            rx.text("No events were emitted for this payment.", size="2", color_scheme="gray"),
        ),
    )


@portal_page("/payments/[payment_id]", "Payment", on_load=[PaymentDetailState.load])
def payment_detail() -> rx.Component:
    p = PaymentDetailState.payment
    return detail_page(
        PaymentDetailState,
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(p["amount"], size="7", as_="h1"),
                    status_badge(p["status"], p["status_label"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(p["id"], size="1", color_scheme="gray", font_family="monospace"),
                rx.cond(p["description"] != "", rx.text(p["description"], size="2")),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            actions(),
            width="100%",
            spacing="3",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        rx.box(
            rx.cond(
                PaymentDetailState.outcome != "",
                rx.callout(
                    PaymentDetailState.outcome,
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                ),
            ),
            role="status",
            width="100%",
        ),
        rx.cond(p["failure"] != "", rx.callout(p["failure"], color_scheme="red", width="100%")),
        rx.grid(
            money_card(),
            details_card(),
            bank_card(),
            risk_card(),
            refunds_card(),
            routing_card(),
            timeline_card(),
            webhooks_card(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        noun="payment",
        list_href="/payments",
        list_title="Payments",
    )
