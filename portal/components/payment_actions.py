"""What a member can do to one payment from its page: close a review, block a signal, capture,
void and refund (with its confirmation step)."""

from __future__ import annotations

import reflex as rx

from backend.services import labels
from portal.components.forms import error_callout
from portal.state.payment_detail import REFUND_REASONS, PaymentDetailState


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
