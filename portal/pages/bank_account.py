"""Settings, Bank account: where payouts go, verified through Plaid."""

from __future__ import annotations

import reflex as rx

from portal.components.forms import error_callout, notice_callout
from portal.components.layout import portal_page
from portal.pages.settings import card
from portal.state.bank_account import BankAccountState as S


def detail(label: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="7rem"),
        rx.data_list.value(value, overflow_wrap="anywhere"),
    )


def connected() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("landmark", size=22, color="var(--accent-11)"),
            rx.heading(S.account["bank"], size="4", as_="h3"),
            rx.badge(rx.icon("badge-check", size=14), "Verified", color_scheme="green"),
            align="center",
            wrap="wrap",
            spacing="2",
        ),
        rx.data_list.root(
            detail("Account", S.account["name"]),
            detail("Number", S.account["number"]),
            detail("Routing number", S.account["routing"]),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            size="2",
        ),
        rx.text(
            S.account["verified"], " through ", S.account["via"], ".", size="1", color_scheme="gray"
        ),
        spacing="3",
        width="100%",
    )


def sandbox_picker() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.callout(
                "Sandbox: no keys for Plaid are set, so no real bank is contacted. Choose one "
                "of Plaid's test banks and accounts.",
                icon="flask-conical",
                color_scheme="amber",
                size="1",
            ),
            rx.el.label("Bank and account", html_for="bank-account-choice", class_name="pp-label"),
            rx.el.select(
                rx.foreach(S.sandbox_choices, lambda c: rx.el.option(c[1], value=c[0])),
                id="bank-account-choice",
                name="account",
                class_name="pp-native-select",
            ),
            rx.hstack(
                rx.button("Connect this account", type="submit"),
                rx.button(
                    "Cancel",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.cancel_pick,
                ),
                wrap="wrap",
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.connect_sandbox,
        width="100%",
    )


def remove_confirmation() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text("Remove this account? Payouts stop until another one is connected.", size="2"),
            rx.hstack(
                rx.button("Remove account", color_scheme="red", size="1", on_click=S.remove),
                rx.button(
                    "Keep it", variant="soft", color_scheme="gray", size="1", on_click=S.keep
                ),
                spacing="2",
            ),
            spacing="2",
        ),
        icon="triangle-alert",
        color_scheme="red",
        size="1",
    )


def actions() -> rx.Component:
    return rx.cond(
        S.can_manage,
        rx.cond(
            S.picking,
            sandbox_picker(),
            rx.vstack(
                rx.cond(S.confirm_remove, remove_confirmation()),
                rx.hstack(
                    rx.button(
                        rx.icon("landmark", size=16),
                        rx.cond(
                            S.account.contains("bank"),
                            "Replace account",  # type: ignore[attr-defined]
                            "Connect a bank account",
                        ),
                        on_click=S.start_connect,
                    ),
                    rx.cond(
                        S.account.contains("bank") & ~S.confirm_remove,  # type: ignore[attr-defined]
                        rx.button(
                            "Remove", variant="soft", color_scheme="red", on_click=S.ask_remove
                        ),
                    ),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.text(
                    "You sign in to your bank through Plaid, which confirms the account is "
                    "yours; we never see your bank password. Changing the account asks for a "
                    "fresh two-factor code and e-mails every owner.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        rx.text(
            "Only the account owner can change the payout account.", size="2", color_scheme="gray"
        ),
    )


@portal_page("/settings/bank", "Bank account", on_load=[S.load])
def bank_account() -> rx.Component:
    return rx.vstack(
        rx.heading("Bank account", size="7", as_="h1"),
        rx.box(
            error_callout(S.error),
            notice_callout(S.notice),
            role="status",
            aria_live="polite",
            width="100%",
        ),
        rx.cond(
            S.loaded,
            card(
                "Payout account",
                rx.cond(
                    S.account.contains("bank"),  # type: ignore[attr-defined]
                    connected(),
                    rx.text("No bank account is connected yet.", size="2"),
                ),
                actions(),
                description="Where your payouts are sent. Plaid confirms the account is open "
                "and yours before it is saved.",
            ),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        spacing="4",
        width="100%",
        max_width="44rem",
    )
