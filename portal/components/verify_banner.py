"""The banner shown on every signed-in page until the e-mail address is confirmed."""

from __future__ import annotations

import reflex as rx

from portal.state.verify_email import VerifyEmailState

S = VerifyEmailState


def verify_banner() -> rx.Component:
    return rx.cond(
        (S.user_email != "") & ~S.email_verified,
        rx.box(
            rx.flex(
                rx.icon("mail-warning", size=18, flex_shrink="0"),
                rx.text(
                    "Confirm your e-mail address: we sent a link to ",
                    rx.text.strong(S.user_email),
                    ". Until then you cannot invite your team.",
                    size="2",
                    overflow_wrap="anywhere",
                ),
                rx.button("Send a new link", size="1", variant="soft", on_click=S.resend),
                spacing="3",
                align=rx.breakpoints(initial="start", sm="center"),
                direction=rx.breakpoints(initial="column", sm="row"),
            ),
            rx.cond(
                S.resend_message != "",
                rx.text(
                    S.resend_message,
                    size="1",
                    margin_top="0.25rem",
                    color_scheme=rx.cond(S.resend_failed, "red", "green"),
                ),
            ),
            role="status",
            aria_live="polite",
            padding_x=["1rem", "1rem", "2rem"],
            padding_y="0.75rem",
            background="var(--amber-3)",
            border_bottom="1px solid var(--amber-6)",
            color="var(--amber-12)",
        ),
    )
