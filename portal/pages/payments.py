"""Payments: the searchable, filterable list; one payment with its money, timeline, risk,
refunds and webhooks, and the capture, void and refund actions."""

from __future__ import annotations

import reflex as rx

from backend.services import labels
from portal.components.detail_page import detail_page
from portal.components.forms import error_callout
from portal.components.layout import portal_page
from portal.components.list_page import list_error, paged_results, search_form
from portal.components.payments_table import labelled_select, payments_table, status_badge
from portal.state.payments import (
    ALL,
    CUSTOM,
    DATE_CHOICES,
    GATEWAY_CHOICES,
    METHOD_CHOICES,
    REFUND_REASONS,
    RISK_CHOICES,
    STATUS_CHOICES,
    PaymentDetailState,
    PaymentsState,
)

# The filters' choices in words (their values, in the address, stay codes).
STATUS_NAMES = {ALL: "All", **{c: labels.status(c) for c in STATUS_CHOICES if c != ALL}}
METHOD_NAMES = {ALL: "All", **{c: labels.words(c) for c in METHOD_CHOICES if c != ALL}}
GATEWAY_NAMES = {ALL: "All", **labels.GATEWAYS}
RISK_NAMES = {ALL: "All", **labels.RISK_DECISIONS}


def labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"), control, spacing="1", min_width="5.5rem"
    )


def date_input(label: str, html_id: str, value: rx.Var, on_change: object) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=html_id, class_name="pp-label", font_size="var(--font-size-1)"),
        rx.input(id=html_id, type="date", value=value, on_change=on_change, size="2"),
        spacing="1",
    )


def date_range_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Date"),
        rx.select.content(
            *(rx.select.item(label, value=key) for key, label in DATE_CHOICES.items())
        ),
        value=PaymentsState.date_range,
        on_change=PaymentsState.choose_date_range,
    )


def filters() -> rx.Component:
    return rx.vstack(
        search_form(
            PaymentsState,
            placeholder="Search id, e-mail, last 4 or amount",
            aria_label="Search payments",
            name="query",
        ),
        rx.flex(
            labelled(
                "Status",
                labelled_select(
                    STATUS_CHOICES,
                    names=STATUS_NAMES,
                    value=PaymentsState.status,
                    on_change=PaymentsState.choose_status,
                    label="Status",
                ),
            ),
            labelled(
                "Currency",
                labelled_select(
                    PaymentsState.currencies,
                    names={ALL: "All"},
                    value=PaymentsState.currency,
                    on_change=PaymentsState.choose_currency,
                    label="Currency",
                ),
            ),
            labelled(
                "Method",
                labelled_select(
                    METHOD_CHOICES,
                    names=METHOD_NAMES,
                    value=PaymentsState.method,
                    on_change=PaymentsState.choose_method,
                    label="Method",
                ),
            ),
            labelled(
                "Gateway",
                labelled_select(
                    GATEWAY_CHOICES,
                    names=GATEWAY_NAMES,
                    value=PaymentsState.gateway,
                    on_change=PaymentsState.choose_gateway,
                    label="Gateway",
                ),
            ),
            labelled(
                "Risk",
                labelled_select(
                    RISK_CHOICES,
                    names=RISK_NAMES,
                    value=PaymentsState.risk,
                    on_change=PaymentsState.choose_risk,
                    label="Risk",
                ),
            ),
            labelled("Date", date_range_select()),
            rx.cond(
                PaymentsState.date_range == CUSTOM,
                rx.fragment(
                    date_input(
                        "From",
                        "payments-from",
                        PaymentsState.date_from,
                        PaymentsState.set_date_from,
                    ),
                    date_input(
                        "To", "payments-to", PaymentsState.date_to, PaymentsState.set_date_to
                    ),
                ),
            ),
            gap="3",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        rx.foreach(
            PaymentsState.notes,
            lambda note: rx.callout(note, icon="info", color_scheme="gray", size="1", width="100%"),
        ),
        spacing="3",
        width="100%",
    )


def no_results() -> rx.Component:
    return rx.vstack(
        rx.cond(
            PaymentsState.filtered,
            rx.text("No payments match these filters.", color_scheme="gray", size="2"),
            rx.text(
                "No payments yet. Charge a test card through the API with your "
                "test key and it shows up here.",
                color_scheme="gray",
                size="2",
            ),
        ),
        rx.cond(
            PaymentsState.filtered,
            rx.button("Clear filters", variant="soft", on_click=PaymentsState.clear_filters),
        ),
        align="start",
    )


def range_problem() -> rx.Component:
    """Dates that cannot be applied: no list at all, rather than one that does not match."""
    return rx.callout(
        PaymentsState.range_problem,
        icon="calendar-x",
        color_scheme="amber",
        role="status",
        width="100%",
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
        fact("Card", p["card"]),
        fact("Expiry", p["expiry"]),
        fact("Gateway", p["gateway"]),
        fact("Order", p["order"]),
        rx.cond(
            p["customer_id"] != "",
            rx.link("View customer", href="/customers/" + p["customer_id"].to(str), size="2"),
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


def review_panel() -> rx.Component:
    """An open review, with its two endings for those who may close it; or how it ended."""
    p = PaymentDetailState.payment
    return rx.fragment(
        rx.cond(
            p["review"] == "open",
            rx.callout(
                rx.vstack(
                    rx.text(
                        "In review: the risk rules flagged this payment. Check the signals "
                        "below, then approve it, or mark it fraudulent and refund it and block "
                        "its card.",
                        size="2",
                    ),
                    rx.cond(
                        PaymentDetailState.can_review,
                        rx.hstack(
                            rx.button(
                                rx.icon("check", size=14),
                                "Approve",
                                size="1",
                                color_scheme="green",
                                on_click=PaymentDetailState.close_review("approved"),
                            ),
                            rx.button(
                                rx.icon("octagon-alert", size=14),
                                "Mark fraudulent",
                                size="1",
                                variant="soft",
                                color_scheme="red",
                                on_click=PaymentDetailState.close_review("fraudulent"),
                            ),
                            wrap="wrap",
                            spacing="2",
                        ),
                    ),
                    spacing="2",
                ),
                icon="eye",
                color_scheme="amber",
                size="1",
                width="100%",
            ),
        ),
        rx.cond(
            p["review_note"] != "",
            rx.text(
                rx.cond(p["review"] == "approved", "✓ ", "⚠ "),
                p["review_note"],
                size="2",
                color=rx.cond(p["review"] == "approved", "var(--green-11)", "var(--red-11)"),
            ),
        ),
        rx.cond(
            PaymentDetailState.review_error != "",
            rx.text(PaymentDetailState.review_error, size="2", color="var(--red-11)"),
        ),
    )


def block_row(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(item["value"], size="1", color_scheme="gray", style={"overflowWrap": "anywhere"}),
        rx.spacer(),
        rx.cond(
            item["blocked"] != "",
            rx.badge("Blocked", color_scheme="red", variant="soft"),
            rx.button(
                rx.icon("ban", size=14),
                item["label"],
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=PaymentDetailState.block(item["kind"]),
            ),
        ),
        align="center",
        width="100%",
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


def capture_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button("Capture", on_click=PaymentDetailState.open_capture)),
        rx.dialog.content(
            rx.dialog.title("Capture payment"),
            rx.dialog.description(
                "Capture the whole authorization or less of it; the rest is released.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.el.label(
                        "Amount to capture", html_for="capture-amount", class_name="pp-label"
                    ),
                    rx.input(
                        id="capture-amount",
                        name="amount",
                        placeholder=PaymentDetailState.payment["amount"],
                        input_mode="decimal",
                        width="100%",
                    ),
                    rx.text("Leave empty to capture it all.", size="1", color_scheme="gray"),
                    error_callout(PaymentDetailState.action_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Capture", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=PaymentDetailState.submit_capture,
                reset_on_submit=False,
            ),
            max_width="26rem",
        ),
        open=PaymentDetailState.capture_open,
        on_open_change=PaymentDetailState.set_capture_open,
    )


def void_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Void", variant="soft", color_scheme="red")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Void this authorization?"),
            rx.alert_dialog.description(
                "The hold on the customer's card is released and nothing can be captured "
                "afterwards.",
                size="2",
            ),
            error_callout(PaymentDetailState.action_error),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button(
                    "Void payment", color_scheme="red", on_click=PaymentDetailState.confirm_void
                ),
                justify="end",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
        open=PaymentDetailState.void_open,
        on_open_change=PaymentDetailState.set_void_open,
    )


def refund_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Amount to refund", html_for="refund-amount", class_name="pp-label"),
            rx.input(
                id="refund-amount",
                name="amount",
                value=PaymentDetailState.refund_amount,
                on_change=PaymentDetailState.set_refund_amount,
                placeholder=PaymentDetailState.refundable,
                input_mode="decimal",
                width="100%",
            ),
            rx.text(PaymentDetailState.refund_hint, size="1", color_scheme="gray"),
            rx.el.label("Reason", html_for="refund-reason", class_name="pp-label"),
            rx.el.select(
                *(rx.el.option(labels.refund_reason(r), value=r) for r in REFUND_REASONS),
                id="refund-reason",
                name="reason",
                value=PaymentDetailState.refund_reason,
                on_change=PaymentDetailState.set_refund_reason,
                class_name="pp-native-select",
            ),
            error_callout(PaymentDetailState.action_error),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Review refund", type="submit"),
                justify="end",
                width="100%",
            ),
            spacing="2",
        ),
        on_submit=PaymentDetailState.review_refund,
        reset_on_submit=False,
    )


def refund_confirmation() -> rx.Component:
    return rx.vstack(
        rx.callout(
            PaymentDetailState.refund_summary, icon="info", color_scheme="amber", width="100%"
        ),
        error_callout(PaymentDetailState.action_error),
        rx.cond(
            PaymentDetailState.step_up_required,
            rx.text(
                "This refund needs a fresh code from your second factor: once you confirm "
                "it is you, the refund goes through.",
                size="2",
                id="refund-step-up",
            ),
        ),
        rx.hstack(
            rx.button(
                "Back",
                variant="soft",
                color_scheme="gray",
                on_click=PaymentDetailState.back_to_refund_form,
            ),
            rx.button(
                "Confirm refund",
                color_scheme="red",
                loading=PaymentDetailState.action_pending,
                on_click=PaymentDetailState.confirm_refund,
            ),
            justify="end",
            width="100%",
        ),
        spacing="3",
    )


def refund_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button("Refund", variant="soft")),
        rx.dialog.content(
            rx.dialog.title("Refund payment"),
            rx.dialog.description(
                "The money goes back to the customer's card in 5 to 10 days.", size="2"
            ),
            rx.cond(PaymentDetailState.refund_confirming, refund_confirmation(), refund_form()),
            max_width="28rem",
        ),
        open=PaymentDetailState.refund_open,
        on_open_change=PaymentDetailState.set_refund_open,
    )


def actions() -> rx.Component:
    return rx.hstack(
        rx.cond(PaymentDetailState.can_capture, capture_dialog()),
        rx.cond(PaymentDetailState.can_void, void_dialog()),
        rx.cond(PaymentDetailState.can_refund, refund_dialog()),
        spacing="2",
        wrap="wrap",
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
            gap="3",
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
            risk_card(),
            refunds_card(),
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
