"""/audit-log: who did what and when, filtered, paged on the server, exported as CSV."""

from __future__ import annotations

import reflex as rx

from portal.components.auth_card import alert
from portal.components.layout import portal_page
from portal.state.audit_log import ALL, AuditLogState

S = AuditLogState


def _select(choices: rx.Var, value: rx.Var, on_change: object, label: str) -> rx.Component:
    """A filter over [value, words] pairs."""
    return rx.vstack(
        rx.text(label, class_name="pp-label", as_="div"),
        rx.select.root(
            rx.select.trigger(aria_label=label, width="100%"),
            rx.select.content(
                rx.select.item("All", value=ALL),
                rx.foreach(choices, lambda c: rx.select.item(c[1], value=c[0])),
            ),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _date(label: str, field_id: str, value: rx.Var, on_change: object) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="pp-label"),
        rx.input(id=field_id, type="date", value=value, on_change=on_change, width="100%"),
        spacing="1",
        width="100%",
        min_width="0",
    )


def filters() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.grid(
                _select(S.actor_choices, S.actor, S.choose_actor, "Actor"),
                _select(S.action_choices, S.action, S.choose_action, "Action"),
                _select(S.object_type_choices, S.object_type, S.choose_object_type, "Object type"),
                _date("From", "audit-from", S.date_from, S.set_date_from),
                _date("To", "audit-to", S.date_to, S.set_date_to),
                columns=rx.breakpoints(initial="1", xs="2", md="5"),
                spacing="3",
                width="100%",
            ),
            rx.hstack(
                rx.button(
                    "Clear filters", variant="soft", color_scheme="gray", on_click=S.clear_filters
                ),
                rx.spacer(),
                # rx.download clicks a plain anchor: the app's router must not take the URL.
                rx.button(
                    rx.icon("download", size=16),
                    "Export CSV",
                    variant="soft",
                    on_click=rx.download(url=S.export_href),
                ),
                width="100%",
                wrap="wrap",
            ),
            rx.text("Times are in " + S.timezone + ".", size="1", color_scheme="gray"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def entry(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.text(
                row["when"], size="1", color_scheme="gray", white_space="nowrap", min_width="11rem"
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(row["action"], size="2", weight="bold"),
                    rx.cond(
                        row["mode"] == "live", rx.badge("live", color_scheme="green", size="1")
                    ),
                    wrap="wrap",
                    align="center",
                ),
                rx.text(
                    rx.text.span("by ", color_scheme="gray"),
                    row["actor"],
                    rx.text.span(" · ", color_scheme="gray"),
                    row["object"],
                    size="2",
                    overflow_wrap="anywhere",
                ),
                rx.cond(
                    row["details"] != "",
                    rx.text(
                        row["details"], size="1", color_scheme="gray", overflow_wrap="anywhere"
                    ),
                ),
                rx.cond(
                    row["ip"] != "—",
                    rx.text("IP " + row["ip"].to(str), size="1", color_scheme="gray"),
                ),
                spacing="1",
                min_width="0",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing=rx.breakpoints(initial="1", sm="4"),
            width="100%",
        ),
        style={"padding": "0.75rem 0", "border-bottom": "1px solid var(--gray-4)"},
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=16),
            "Newer",
            variant="soft",
            disabled=S.page <= 1,
            on_click=S.previous_page,
        ),
        rx.text("Page " + S.page.to(str), size="2", color_scheme="gray"),
        rx.button(
            "Older",
            rx.icon("chevron-right", size=16),
            variant="soft",
            disabled=~S.has_next,
            on_click=S.next_page,
        ),
        justify="center",
        align="center",
        spacing="3",
        width="100%",
    )


@portal_page("/audit-log", "Audit log", on_load=[S.load])
def audit_log_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Audit log", size="7", as_="h1"),
        rx.cond(
            S.allowed,
            rx.vstack(
                rx.text(
                    "Every sign-in, team change, key and money action, with who did it and when.",
                    size="2",
                    color_scheme="gray",
                ),
                filters(),
                alert(S.error),
                rx.card(
                    rx.cond(
                        S.rows.length() > 0,  # type: ignore[attr-defined]
                        rx.vstack(
                            rx.el.ul(
                                rx.foreach(S.rows, entry),
                                width="100%",
                                padding="0",
                                margin="0",
                                list_style="none",
                            ),
                            pager(),
                            width="100%",
                        ),
                        rx.cond(
                            S.loaded,
                            rx.text(
                                "Nothing matches these filters. Widen the dates or choose "
                                "'All' in a filter.",
                                size="2",
                                color_scheme="gray",
                            ),
                            rx.center(rx.spinner(size="3"), width="100%", aria_label="Loading"),
                        ),
                    ),
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            rx.callout(S.denied_message, icon="lock", color_scheme="amber", role="alert"),
        ),
        spacing="4",
        width="100%",
    )
