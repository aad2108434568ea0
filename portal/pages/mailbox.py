"""/dev/mailbox: the sandbox's outbox for demos, newest first; absent when e-mail is real."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import logo
from portal.state.mailbox import MailboxState


def _frame(*children: rx.Component) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(logo(), rx.badge("Development mailbox", color_scheme="orange"), wrap="wrap"),
            *children,
            spacing="4",
            width="100%",
            max_width="52rem",
            margin_x="auto",
        ),
        padding=["1rem", "1rem", "2rem"],
        min_height="100vh",
        background="var(--gray-2)",
        as_="main",
    )


def _not_found() -> rx.Component:
    return rx.vstack(
        rx.heading("Page not found", size="6", as_="h1"),
        rx.text("There is nothing at this address.", size="2", color_scheme="gray"),
        rx.link("Go to sign in", href="/login"),
        spacing="3",
    )


def _message_row(m: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.text(m["subject"], weight="medium", size="3"),
                rx.text(
                    "To " + m["to"].to(str), size="2", color_scheme="gray", word_break="break-all"
                ),
                rx.hstack(
                    rx.badge(m["template"], variant="soft", color_scheme="gray"),
                    rx.text(m["when"], size="1", color_scheme="gray"),
                    wrap="wrap",
                    align="center",
                ),
                spacing="1",
                width="100%",
            ),
            width="100%",
        ),
        href="/dev/mailbox/" + m["id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
    )


@rx.page(route="/dev/mailbox", title="Mailbox · PayPortal", on_load=MailboxState.load_list)
def mailbox() -> rx.Component:
    return _frame(
        rx.cond(
            MailboxState.enabled,
            rx.vstack(
                rx.heading("Mailbox", size="6", as_="h1"),
                rx.text(
                    "E-mails the app would have sent. Without a SendGrid key nothing leaves "
                    "this machine; they are kept here instead. This page does not exist in "
                    "production or when SendGrid is configured.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.cond(
                    MailboxState.messages.length() > 0,  # type: ignore[attr-defined]
                    rx.vstack(rx.foreach(MailboxState.messages, _message_row), width="100%"),
                    rx.cond(
                        MailboxState.loaded,
                        rx.callout(
                            "No e-mails yet. Sign up, ask for a password reset or invite a team "
                            "member, and the message will appear here.",
                            icon="inbox",
                        ),
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            _not_found(),
        )
    )


def _line(segments: rx.Var) -> rx.Component:
    return rx.text(
        rx.foreach(
            segments,
            lambda s: rx.cond(
                s["href"] != "",
                rx.link(s["text"], href=s["href"], word_break="break-all"),
                rx.text.span(s["text"]),
            ),
        ),
        size="2",
        min_height="1em",
        overflow_wrap="anywhere",
    )


@rx.page(
    route="/dev/mailbox/[email_id]", title="E-mail · PayPortal", on_load=MailboxState.load_message
)
def mailbox_message() -> rx.Component:
    return _frame(
        rx.cond(
            MailboxState.enabled & MailboxState.found,
            rx.vstack(
                rx.link(
                    rx.hstack(rx.icon("arrow-left", size=16), rx.text("All e-mails")),
                    href="/dev/mailbox",
                    size="2",
                ),
                rx.heading(MailboxState.subject, size="5", as_="h1"),
                rx.text(
                    "To "
                    + MailboxState.meta["to"].to(str)
                    + " · "
                    + MailboxState.meta["when"].to(str),
                    size="2",
                    color_scheme="gray",
                    word_break="break-all",
                ),
                rx.card(
                    rx.vstack(rx.foreach(MailboxState.lines, _line), spacing="2"), width="100%"
                ),
                spacing="3",
                width="100%",
            ),
            rx.cond(MailboxState.loaded, _not_found(), rx.spinner(size="3")),
        )
    )
