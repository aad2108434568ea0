"""The empty dashboard's quickstart card: a copy-paste test charge."""

from __future__ import annotations

import reflex as rx

from portal.state.quickstart import QuickstartState as S


def quickstart_card() -> rx.Component:
    return rx.cond(
        S.shown,
        rx.card(
            rx.vstack(
                rx.heading("Make your first test payment", size="4", as_="h2"),
                rx.cond(
                    S.command != "",
                    rx.fragment(
                        rx.text(
                            "Run this in a terminal: it charges $10.00 to the sandbox's test "
                            "Visa with your test key “",
                            S.key_name,
                            "”, and the payment appears here. No real money moves.",
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.box(
                            rx.el.pre(
                                S.command,
                                class_name="pp-quickstart-command",
                                aria_label="Test charge command",
                                style={
                                    "margin": "0",
                                    "white-space": "pre-wrap",
                                    "word-break": "break-all",
                                    "font-family": "var(--code-font-family)",
                                    "font-size": "var(--font-size-1)",
                                    "line-height": "1.6",
                                },
                            ),
                            background="var(--gray-a3)",
                            border_radius="var(--radius-3)",
                            padding="0.75rem",
                            width="100%",
                        ),
                        rx.flex(
                            rx.button(
                                rx.icon("copy", size=16),
                                "Copy",
                                variant="soft",
                                on_click=[rx.set_clipboard(S.command), rx.toast.success("Copied")],
                            ),
                            rx.link(
                                "API reference",
                                href="/api/docs",
                                is_external=True,
                                size="2",
                            ),
                            rx.link("API keys", href="/developers/api-keys", size="2"),
                            spacing="4",
                            align="center",
                            wrap="wrap",
                        ),
                    ),
                    rx.flex(
                        rx.text(
                            "Create a test key to call the API from your server.",
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.link(
                            rx.button("Create a test key", size="1", variant="soft"),
                            href="/developers/api-keys",
                        ),
                        spacing="3",
                        align="center",
                        wrap="wrap",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            class_name="pp-quickstart",
        ),
    )
