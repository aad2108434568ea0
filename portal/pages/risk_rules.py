"""Risk rules: the scores at which payments are flagged or blocked, how a score is made, and
the blocklist."""

from __future__ import annotations

import reflex as rx

from backend.services.payments.risk_rules import rule_descriptions
from portal.components.forms import error_callout, notice_callout
from portal.components.layout import portal_page
from portal.components.payments_table import PHONE_HIDDEN
from portal.pages.settings import card, field, status_line
from portal.state.risk_rules import KIND_LABELS
from portal.state.risk_rules import RiskRulesState as S


def score_field(label: str, name: str, value: rx.Var, hint: str) -> rx.Component:
    html_id = name.replace("_", "-")
    return field(
        label,
        html_id,
        rx.input(
            id=html_id,
            name=name,
            default_value=value,
            type="number",
            min=0,
            max=101,
            required=True,
            read_only=~S.can_manage,
            width="7rem",
        ),
        hint,
    )


def thresholds_card() -> rx.Component:
    return card(
        "Thresholds",
        rx.form(
            rx.vstack(
                rx.grid(
                    score_field(
                        "Flag for review at",
                        "review_score",
                        S.review_score,
                        "Flagged payments go through and are marked for review.",
                    ),
                    score_field(
                        "Block at",
                        "block_score",
                        S.block_score,
                        "Blocked payments never reach a processor. 101 never blocks.",
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                status_line(S.thresholds_message, S.thresholds_error),
                rx.cond(S.can_manage, rx.button("Save thresholds", type="submit")),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save_thresholds,
            reset_on_submit=False,
            key=S.review_score + "-" + S.block_score,
            width="100%",
        ),
        rx.flex(
            rx.link("Payments flagged for review", href="/payments?risk=review", size="2"),
            rx.link("Blocked payments", href="/payments?risk=block", size="2"),
            wrap="wrap",
            style={"gap": "1rem"},
        ),
        description="Every payment is scored from 0 to 100 before any processor sees it.",
    )


def rules_card() -> rx.Component:
    return card(
        "How a payment is scored",
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Rule"),
                        rx.table.column_header_cell("Points"),
                    )
                ),
                rx.table.body(
                    *(
                        rx.table.row(
                            rx.table.cell(
                                rx.text(rule.name, weight="medium", size="2"),
                                rx.text(rule.counts, size="1", color_scheme="gray"),
                            ),
                            rx.table.cell(rx.text(rule.points, size="2"), min_width="8rem"),
                        )
                        for rule in rule_descriptions()
                    )
                ),
                size="1",
                width="100%",
            ),
            width="100%",
            overflow_x="auto",
        ),
        rx.text(
            "Within a rule only the highest step counts. The score is capped at 100; the reasons "
            "are shown on each payment's page.",
            size="1",
            color_scheme="gray",
        ),
    )


def blocklist_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                field(
                    "Block",
                    "blocklist-kind",
                    rx.el.select(
                        *(rx.el.option(label, value=kind) for kind, label in KIND_LABELS.items()),
                        id="blocklist-kind",
                        name="kind",
                        value=S.new_kind,
                        on_change=S.choose_kind,
                        class_name="pp-native-select",
                    ),
                ),
                field(
                    "Value",
                    "blocklist-value",
                    rx.input(
                        id="blocklist-value",
                        name="value",
                        required=True,
                        max_length=320,
                        auto_complete="off",
                        placeholder=rx.match(
                            S.new_kind,
                            ("email", "fraud@example.com"),
                            ("ip_address", "203.0.113.7"),
                            ("country", "Two letters, e.g. NG"),
                            "Fingerprint from a payment, or the card number",
                        ),
                        width="100%",
                    ),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            field(
                "Reason (optional)",
                "blocklist-reason",
                rx.input(id="blocklist-reason", name="reason", max_length=300, width="100%"),
            ),
            rx.text(
                "A card number typed here is turned into its fingerprint: the number itself is "
                "never stored.",
                size="1",
                color_scheme="gray",
            ),
            rx.button(rx.icon("ban", size=16), "Add to blocklist", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.add_entry,
        reset_on_submit=False,
        key=S.form_key,
        width="100%",
    )


def entry_row(entry: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(entry["kind"], variant="soft", color_scheme="gray")),
        rx.table.cell(
            rx.text(entry["value"], size="2", style={"overflowWrap": "anywhere"}),
            rx.text(entry["reason"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(rx.text(entry["added"], size="1"), display=PHONE_HIDDEN),
        rx.cond(
            S.can_manage,
            rx.table.cell(
                rx.button(
                    "Remove",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.remove_entry(entry["id"]),
                    aria_label="Remove " + entry["value"].to(str) + " from the blocklist",
                )
            ),
        ),
    )


def blocklist_card() -> rx.Component:
    return card(
        "Blocklist",
        rx.cond(S.can_manage, blocklist_form()),
        error_callout(S.blocklist_error),
        notice_callout(S.blocklist_message),
        rx.cond(
            S.entries.length() > 0,  # type: ignore[attr-defined]
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Kind"),
                            rx.table.column_header_cell("Value"),
                            rx.table.column_header_cell("Added", display=PHONE_HIDDEN),
                            rx.cond(S.can_manage, rx.table.column_header_cell("")),
                        )
                    ),
                    rx.table.body(rx.foreach(S.entries, entry_row)),
                    size="1",
                    width="100%",
                ),
                width="100%",
                overflow_x="auto",
            ),
            rx.text("Nothing is blocked.", size="2", color_scheme="gray"),
        ),
        description="Payments matching an entry are always blocked, whatever their score, in "
        "test and live mode.",
    )


@portal_page("/settings/risk", "Risk rules", on_load=[S.load])
def risk_rules() -> rx.Component:
    return rx.vstack(
        rx.heading("Risk rules", size="7", as_="h1"),
        error_callout(S.error),
        rx.cond(
            S.loaded,
            rx.grid(
                rx.vstack(thresholds_card(), rules_card(), spacing="3", width="100%"),
                blocklist_card(),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="4rem", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
