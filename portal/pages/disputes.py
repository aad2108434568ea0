"""Disputes: what is disputed and by when to answer; one dispute with its evidence."""

from __future__ import annotations

import reflex as rx

from backend.services.payments.dispute_evidence import MAX_FILE_BYTES, MAX_FILES
from portal.components.detail_page import detail_page, fact
from portal.components.layout import portal_page
from portal.components.list_page import list_error, list_table, paged_results
from portal.components.payments_table import PHONE_HIDDEN, SMALL_HIDDEN, labelled_select
from portal.state.disputes import STATUS_CHOICES, UPLOAD_ID, DisputeDetailState, DisputesState

DISPUTE_COLORS = {"needs_response": "red", "under_review": "amber", "won": "green", "lost": "gray"}


def dispute_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(status, *DISPUTE_COLORS.items(), "gray"))


def _row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(d["amount"], href="/disputes/" + d["id"].to(str), weight="medium"),
            rx.text(d["reason"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(dispute_badge(d["status"], d["status_label"])),
        rx.table.cell(d["customer"], display=PHONE_HIDDEN),
        rx.table.cell(
            rx.text(d["due"], size="2", display=SMALL_HIDDEN),
            rx.cond(
                d["days_left"] != "",
                rx.text(d["days_left"], size="1", color="var(--red-11)", weight="medium"),
            ),
        ),
    )


@portal_page("/disputes", "Disputes", on_load=[DisputesState.load])
def disputes_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Disputes", size="7", as_="h1"),
            rx.spacer(),
            rx.vstack(
                rx.text("Status", size="1", color_scheme="gray"),
                labelled_select(
                    STATUS_CHOICES,
                    value=DisputesState.status,
                    on_change=DisputesState.choose_status,
                    label="Status",
                ),
                spacing="1",
            ),
            width="100%",
            align="end",
        ),
        rx.cond(
            DisputesState.open_count > 0,
            rx.callout(
                DisputesState.open_count.to(str)
                + " dispute(s) need your answer. Open one, attach evidence and submit it before "
                "its deadline, or the money is lost.",
                icon="triangle-alert",
                color_scheme="amber",
                width="100%",
            ),
        ),
        list_error(DisputesState),
        paged_results(
            DisputesState,
            list_table(
                [
                    rx.table.column_header_cell("Amount"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Customer", display=PHONE_HIDDEN),
                    rx.table.column_header_cell("Evidence due"),
                ],
                DisputesState.rows,
                _row,
            ),
            rx.text(
                "No disputes here. When a customer's bank disputes a payment it appears "
                "here with the deadline to answer, and the team is e-mailed.",
                color_scheme="gray",
                size="2",
            ),
        ),
        spacing="4",
        width="100%",
    )


def file_row(f: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon("file", size=16),
        rx.link(
            f["name"],
            href=f["url"],
            is_external=True,
            download=True,
            size="2",
            overflow_wrap="anywhere",
            min_width="0",
        ),
        rx.text(f["kind"] + " · " + f["size"], size="1", color_scheme="gray", white_space="nowrap"),
        rx.spacer(),
        rx.cond(
            DisputeDetailState.can_respond,
            rx.icon_button(
                rx.icon("trash-2", size=14),
                variant="ghost",
                color_scheme="red",
                aria_label="Remove " + f["name"].to(str),
                on_click=DisputeDetailState.remove_file(f["id"]),
            ),
        ),
        width="100%",
        align="center",
    )


def uploader() -> rx.Component:
    return rx.vstack(
        rx.upload.root(
            rx.vstack(
                rx.icon("upload", size=20),
                rx.text("Drop files here or choose them", size="2", weight="medium"),
                rx.text(
                    f"PDF, PNG or JPEG, up to {MAX_FILE_BYTES // (1024 * 1024)} MB each, "
                    f"{MAX_FILES} files in all",
                    size="1",
                    color_scheme="gray",
                ),
                align="center",
                spacing="1",
            ),
            id=UPLOAD_ID,
            accept={
                "application/pdf": [".pdf"],
                "image/png": [".png"],
                "image/jpeg": [".jpg", ".jpeg"],
            },
            max_files=MAX_FILES,
            multiple=True,
            border="1px dashed var(--gray-8)",
            border_radius="var(--radius-3)",
            padding="1.25rem",
            width="100%",
            cursor="pointer",
            aria_label="Evidence files",
        ),
        rx.foreach(
            rx.selected_files(UPLOAD_ID),
            lambda name: rx.text(name, size="1", overflow_wrap="anywhere"),
        ),
        rx.button(
            rx.icon("paperclip", size=16),
            "Attach selected files",
            variant="soft",
            on_click=DisputeDetailState.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        ),
        spacing="2",
        width="100%",
    )


def messages() -> rx.Component:
    return rx.box(
        rx.cond(
            DisputeDetailState.error != "",
            rx.callout(
                DisputeDetailState.error, color_scheme="red", icon="triangle-alert", width="100%"
            ),
        ),
        rx.cond(
            DisputeDetailState.notice != "",
            rx.callout(
                DisputeDetailState.notice, color_scheme="green", icon="circle-check", width="100%"
            ),
        ),
        role="status",
        aria_live="polite",
        width="100%",
    )


def accept_button() -> rx.Component:
    """Concede the dispute, after a confirm step: it cannot be undone."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Accept dispute", variant="soft", color_scheme="red")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Accept this dispute?"),
            rx.alert_dialog.description(
                "The customer keeps the money and the dispute is closed as lost. No evidence "
                "can be sent afterwards.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Keep it open", variant="soft", color_scheme="gray")
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Accept dispute", color_scheme="red", on_click=DisputeDetailState.accept
                    )
                ),
                justify="end",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
    )


def response_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Your response", size="4", as_="h2"),
            rx.cond(
                DisputeDetailState.submitted != "",
                rx.text("Submitted " + DisputeDetailState.submitted, size="2", color_scheme="gray"),
            ),
            rx.heading("Evidence", size="3", as_="h3"),
            rx.cond(
                DisputeDetailState.files.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.foreach(DisputeDetailState.files, file_row), width="100%", spacing="2"
                ),
                rx.text(
                    "No files yet. Attach the receipt, proof of delivery, your terms or the "
                    "customer's messages.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.cond(DisputeDetailState.can_respond, uploader()),
            rx.el.label("Explanation", html_for="dispute-explanation", class_name="pp-label"),
            rx.text_area(
                id="dispute-explanation",
                value=DisputeDetailState.explanation,
                on_change=DisputeDetailState.set_explanation,
                placeholder="Why the payment was legitimate: what was bought, when it was "
                "delivered, how the customer agreed...",
                rows="6",
                width="100%",
                read_only=~DisputeDetailState.can_respond,
            ),
            messages(),
            rx.cond(
                DisputeDetailState.can_respond,
                rx.hstack(
                    accept_button(),
                    rx.spacer(),
                    rx.button("Save draft", variant="soft", on_click=DisputeDetailState.save_draft),
                    rx.alert_dialog.root(
                        rx.alert_dialog.trigger(rx.button("Submit evidence")),
                        rx.alert_dialog.content(
                            rx.alert_dialog.title("Submit this evidence?"),
                            rx.alert_dialog.description(
                                "It goes to the customer's bank as it is; nothing can be added "
                                "or changed afterwards.",
                                size="2",
                            ),
                            rx.hstack(
                                rx.alert_dialog.cancel(
                                    rx.button("Not yet", variant="soft", color_scheme="gray")
                                ),
                                rx.alert_dialog.action(
                                    rx.button("Submit", on_click=DisputeDetailState.submit_response)
                                ),
                                justify="end",
                                margin_top="1rem",
                            ),
                            max_width="26rem",
                        ),
                    ),
                    justify="end",
                    width="100%",
                    wrap="wrap",
                ),
                rx.cond(
                    ~DisputeDetailState.can_manage,
                    rx.text(
                        "Your role can read disputes but not answer them.",
                        size="2",
                        color_scheme="gray",
                    ),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@portal_page("/disputes/[dispute_id]", "Dispute", on_load=[DisputeDetailState.load])
def dispute_detail() -> rx.Component:
    d = DisputeDetailState.dispute
    return detail_page(
        DisputeDetailState,
        rx.hstack(
            rx.heading(d["amount"], size="7", as_="h1"),
            dispute_badge(d["status"], d["status_label"]),
            rx.cond(
                d["days_left"] != "",
                rx.badge(d["days_left"], color_scheme="red", variant="outline"),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.text(d["id"], size="1", color_scheme="gray", font_family="monospace"),
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Dispute", size="4", as_="h2"),
                    fact("Reason", d["reason"]),
                    fact("Opened", d["opened"]),
                    fact("Evidence due", d["due"]),
                    fact("Customer", d["customer"]),
                    fact("Payment", d["payment_amount"]),
                    rx.link(
                        "View payment",
                        href="/payments/" + d["payment_id"].to(str),
                        size="2",
                    ),
                    spacing="2",
                    width="100%",
                ),
                width="100%",
            ),
            response_card(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        noun="dispute",
        list_href="/disputes",
        list_title="Disputes",
    )
