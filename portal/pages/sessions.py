"""/settings/sessions: where you are signed in; sign out one session or all the others."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import alert
from portal.components.layout import portal_page
from portal.state.sessions_list import SessionsState

S = SessionsState


def session_card(row: rx.Var) -> rx.Component:
    current = row["current"] == "yes"
    return rx.card(
        rx.flex(
            rx.hstack(
                rx.icon("monitor-smartphone", size=20, color="var(--gray-11)"),
                rx.vstack(
                    rx.hstack(
                        rx.text(row["device"], weight="medium", size="3"),
                        rx.cond(current, rx.badge("This device", color_scheme="green")),
                        wrap="wrap",
                        align="center",
                    ),
                    rx.text(row["ip"], size="2", color_scheme="gray"),
                    rx.text(
                        "Last active "
                        + row["last_seen"].to(str)
                        + " · signed in "
                        + row["signed_in"].to(str),
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                    min_width="0",
                ),
                align="start",
                spacing="3",
                min_width="0",
            ),
            rx.spacer(),
            rx.button(
                rx.cond(current, "Sign out", "Sign out this session"),
                variant="soft",
                color_scheme=rx.cond(current, "gray", "red"),
                on_click=S.revoke(row["id"]),
                aria_label=rx.cond(
                    current,
                    "Sign out here",
                    "Sign out " + row["device"].to(str) + " at " + row["ip"].to(str),
                ),
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/settings/sessions", "Your sessions", on_load=[S.load])
def sessions_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Your sessions", size="7", as_="h1"),
        rx.text(
            "Where you are signed in to PayPortal. A session ends after "
            "a while without activity; sign out any you do not recognise, then change your "
            "password.",
            size="2",
            color_scheme="gray",
        ),
        alert(S.error),
        alert(S.message, color="green", icon="check"),
        rx.vstack(rx.foreach(S.rows, session_card), spacing="3", width="100%"),
        rx.cond(
            S.rows.length() > 1,  # type: ignore[attr-defined]
            rx.button(
                rx.icon("log-out", size=16),
                "Sign out other sessions",
                color_scheme="red",
                on_click=S.sign_out_others,
            ),
            rx.cond(
                S.loaded,
                rx.text(
                    "You are signed in only here. Sessions on other devices will appear in "
                    "this list.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
        ),
        spacing="4",
        width="100%",
        align="start",
    )
