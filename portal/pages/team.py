"""/team: members and their roles, invitations, and the written permission matrix."""

from __future__ import annotations

import reflex as rx

from backend.services import labels
from backend.services.identity.permissions import DESCRIPTIONS, MATRIX
from backend.services.identity.team import ASSIGNABLE_ROLES
from portal.components.auth_card import alert
from portal.components.layout import portal_page
from portal.components.payments_table import labelled_select
from portal.state.team import TeamState

ROLE_COLORS = {
    "owner": "violet",
    "admin": "blue",
    "developer": "cyan",
    "analyst": "gray",
    "support": "amber",
}


def role_badge(role: rx.Var, label: rx.Var) -> rx.Component:
    color = rx.match(role, *ROLE_COLORS.items(), "gray")
    return rx.badge(label, color_scheme=color, variant="soft")


def confirm_remove(m: rx.Var) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.cond(m["you"] == "yes", "Leave", "Remove"),
                variant="soft",
                color_scheme="red",
                size="2",
                aria_label=rx.cond(
                    m["you"] == "yes", "Leave the team", "Remove " + m["email"].to(str)
                ),
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.cond(m["you"] == "yes", "Leave the team?", "Remove this member?")
            ),
            rx.alert_dialog.description(
                m["email"].to(str) + " loses access at once and is signed out of this account.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Remove", color_scheme="red", on_click=TeamState.remove(m["id"]))
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
    )


def member_card(m: rx.Var) -> rx.Component:
    editable = TeamState.can_manage & (m["role"] != "owner") & (m["you"] != "yes")
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.text(m["email"], weight="medium", size="3", word_break="break-all"),
                    rx.cond(m["you"] == "yes", rx.badge("You", variant="outline")),
                    wrap="wrap",
                    align="center",
                ),
                rx.cond(m["name"] != "", rx.text(m["name"], size="2", color_scheme="gray")),
                rx.hstack(
                    role_badge(m["role"], m["role_label"]),
                    rx.text("Joined " + m["joined"].to(str), size="1", color_scheme="gray"),
                    align="center",
                    wrap="wrap",
                ),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.hstack(
                rx.cond(
                    editable,
                    labelled_select(
                        [str(r) for r in ASSIGNABLE_ROLES],
                        names=labels.ROLES,
                        value=m["role"],
                        on_change=lambda role: TeamState.change_role(m["id"], role),
                        label="Role of " + m["email"].to(str),
                    ),
                ),
                rx.cond(
                    TeamState.can_transfer & (m["you"] != "yes"),
                    rx.button(
                        "Make owner",
                        variant="soft",
                        size="2",
                        on_click=TeamState.open_transfer(m["id"]),
                        aria_label="Make " + m["email"].to(str) + " the owner",
                    ),
                ),
                rx.cond(
                    editable | ((m["you"] == "yes") & (m["role"] != "owner")),
                    confirm_remove(m),
                ),
                wrap="wrap",
                spacing="2",
                align="center",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def invite_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Invite a team member", size="4", as_="h2"),
                rx.cond(
                    ~TeamState.email_verified,
                    rx.text(
                        "Confirm your own e-mail address first (see the banner above).",
                        size="2",
                        color_scheme="amber",
                    ),
                ),
                rx.flex(
                    rx.vstack(
                        rx.el.label("E-mail", html_for="invite-email", class_name="pp-label"),
                        rx.input(
                            id="invite-email",
                            name="email",
                            type="email",
                            required=True,
                            width="100%",
                            placeholder="colleague@yourshop.com",
                        ),
                        spacing="1",
                        flex="1",
                        min_width="0",
                    ),
                    rx.vstack(
                        rx.text("Role", class_name="pp-label", as_="div"),
                        labelled_select(
                            [str(r) for r in ASSIGNABLE_ROLES],
                            names=labels.ROLES,
                            value=TeamState.invite_role,
                            on_change=TeamState.set_invite_role,
                            label="Role for the invitation",
                        ),
                        spacing="1",
                    ),
                    rx.button("Send invitation", type="submit", align_self="end"),
                    spacing="3",
                    direction=rx.breakpoints(initial="column", sm="row"),
                    width="100%",
                ),
                rx.text(
                    "They get an e-mail with a link that works once, for 7 days.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=TeamState.invite,
            reset_on_submit=True,
            width="100%",
        ),
        width="100%",
    )


def pending_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Pending invitations", size="4", as_="h2"),
            rx.cond(
                TeamState.pending.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.foreach(
                        TeamState.pending,
                        lambda p: rx.flex(
                            rx.vstack(
                                rx.text(
                                    p["email"], weight="medium", size="2", word_break="break-all"
                                ),
                                rx.text(
                                    "As "
                                    + p["role_label"].to(str)
                                    + " · invited by "
                                    + p["by"].to(str)
                                    + " · expires "
                                    + p["expires"].to(str),
                                    size="1",
                                    color_scheme="gray",
                                ),
                                spacing="1",
                                min_width="0",
                            ),
                            rx.spacer(),
                            rx.cond(
                                TeamState.can_manage,
                                rx.button(
                                    "Revoke",
                                    variant="soft",
                                    color_scheme="red",
                                    size="2",
                                    on_click=TeamState.revoke_invitation(p["id"]),
                                    aria_label="Revoke the invitation of " + p["email"].to(str),
                                ),
                            ),
                            spacing="2",
                            width="100%",
                            direction=rx.breakpoints(initial="column", sm="row"),
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.text(
                    rx.cond(
                        TeamState.can_manage,
                        "No pending invitations. Invite someone above; they are listed here "
                        "until they accept.",
                        "No pending invitations.",
                    ),
                    size="2",
                    color_scheme="gray",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def transfer_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Transfer ownership"),
            rx.dialog.description(
                "The member you chose becomes the owner, with the payout bank account and this "
                "same power to transfer. You become an admin. Confirm with your password.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.el.label(
                        "Your password", html_for="transfer-password", class_name="pp-label"
                    ),
                    rx.input(
                        id="transfer-password",
                        name="password",
                        type="password",
                        auto_complete="current-password",
                        required=True,
                        width="100%",
                    ),
                    alert(TeamState.transfer_error),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Transfer ownership", type="submit", color_scheme="red"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1rem",
                ),
                on_submit=TeamState.transfer,
                reset_on_submit=True,
            ),
            max_width="28rem",
        ),
        open=TeamState.transfer_open,
        on_open_change=TeamState.set_transfer_open,
    )


ROLES = list(MATRIX)  # every role, the owner first
MATRIX_ROWS = [
    (description, [permission in MATRIX[role] for role in ROLES])
    for permission, description in DESCRIPTIONS.items()
]


def permission_matrix() -> rx.Component:
    yes = rx.flex(
        rx.icon("check", size=16, color="var(--grass-11)"),
        rx.text.span("allowed", class_name="pp-sr-only"),
        justify="center",
    )
    no = rx.flex(
        rx.text("—", color_scheme="gray", aria_hidden="true"),
        rx.text.span("not allowed", class_name="pp-sr-only"),
        justify="center",
    )
    return rx.card(
        rx.vstack(
            rx.heading("What each role can do", size="4", as_="h2"),
            rx.text(
                "Support refunds up to the support refund limit in your default currency; "
                "larger refunds need an owner or admin. The server checks every action.",
                size="2",
                color_scheme="gray",
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Permission"),
                            *(
                                rx.table.column_header_cell(labels.role(r), text_align="center")
                                for r in ROLES
                            ),
                        )
                    ),
                    rx.table.body(
                        *(
                            rx.table.row(
                                rx.table.row_header_cell(
                                    rx.text(description, size="2"), min_width="12rem"
                                ),
                                *(
                                    rx.table.cell(yes if allowed else no, text_align="center")
                                    for allowed in flags
                                ),
                            )
                            for description, flags in MATRIX_ROWS
                        )
                    ),
                    size="1",
                ),
                overflow_x="auto",
                width="100%",
                tab_index=0,
                aria_label="Permission matrix",
            ),
            rx.text(
                "Swipe the table sideways to see every role.",
                size="1",
                color_scheme="gray",
                display=["block", "block", "none"],
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/team", "Team", on_load=[TeamState.load])
def team_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Team", size="7", as_="h1"),
        alert(TeamState.error),
        alert(TeamState.message, color="green", icon="check"),
        rx.cond(TeamState.can_manage, invite_card()),
        rx.vstack(
            rx.heading("Members", size="4", as_="h2"),
            rx.foreach(TeamState.members, member_card),
            spacing="3",
            width="100%",
        ),
        pending_card(),
        permission_matrix(),
        transfer_dialog(),
        spacing="5",
        width="100%",
    )
