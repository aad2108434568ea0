"""The set-up checklist on the dashboard: what the owner still has to do, each with its link."""

from __future__ import annotations

import reflex as rx

from portal.state.onboarding import OnboardingState as S
from portal.state.verify_email import VerifyEmailState


def step_row(step: rx.Var) -> rx.Component:
    done = step["done"] != ""
    return rx.flex(
        rx.cond(
            done,
            rx.icon("circle-check", size=20, color="var(--green-10)", flex_shrink="0"),
            rx.icon("circle", size=20, color="var(--gray-8)", flex_shrink="0"),
        ),
        rx.vstack(
            rx.text(
                step["title"],
                size="2",
                weight="medium",
                text_decoration=rx.cond(done, "line-through", "none"),
                color=rx.cond(done, "var(--gray-10)", "var(--gray-12)"),
            ),
            rx.cond(~done, rx.text(step["why"], size="1", color_scheme="gray")),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            ~done,
            rx.cond(
                step["key"] == "email",
                rx.button(
                    "Send a new link", size="1", variant="soft", on_click=VerifyEmailState.resend
                ),
                rx.link(rx.button("Set up", size="1", variant="soft"), href=step["href"]),
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
    )


def onboarding_checklist() -> rx.Component:
    return rx.cond(
        S.steps.length() > 0,  # type: ignore[attr-defined]
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.heading("Get ready for live payments", size="4", as_="h2"),
                    rx.spacer(),
                    rx.text(
                        S.done_count,
                        " of ",
                        S.steps.length(),
                        " done",  # type: ignore[attr-defined]
                        size="2",
                        color_scheme="gray",
                    ),
                    align="center",
                    wrap="wrap",
                    spacing="2",
                    width="100%",
                ),
                rx.progress(
                    value=S.done_count * 100 // S.steps.length(),  # type: ignore[attr-defined]
                    aria_label="Set-up progress",
                ),
                rx.foreach(S.steps, step_row),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )
