"""Checkout branding: the logo and brand colour customers see when they pay."""

from __future__ import annotations

import reflex as rx

from portal.components.layout import portal_page
from portal.state.branding import BrandingState as S

UPLOAD_ID = "logo-upload"


def preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Preview", weight="bold", size="2"),
            rx.hstack(
                rx.cond(
                    S.logo_url != "",
                    rx.image(src=S.logo_url, alt="Your logo", max_height="40px", max_width="160px"),
                    rx.text(S.merchant_name, weight="bold"),
                ),
                align="center",
            ),
            rx.el.div(
                "Pay $25.00",
                style={
                    "background": rx.cond(S.draft_valid, S.draft_color, S.brand_color),
                    "color": S.preview_text_color,
                    "padding": "12px",
                    "borderRadius": "8px",
                    "textAlign": "center",
                    "fontWeight": "600",
                    "width": "100%",
                },
                aria_hidden="true",
            ),
            rx.text(S.contrast_note, size="2", role="status", aria_live="polite"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def color_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Brand colour", html_for="brand_color", class_name="pp-label"),
            rx.hstack(
                rx.el.input(
                    type="color",
                    value=rx.cond(S.draft_valid, S.draft_color, S.brand_color),
                    on_change=S.set_draft_color,
                    aria_label="Pick the brand colour",
                    style={"width": "48px", "height": "40px", "border": "0", "padding": "0"},
                ),
                rx.input(
                    id="brand_color",
                    name="brand_color",
                    value=S.draft_color,
                    on_change=S.set_draft_color,
                    max_length=7,
                    width="9rem",
                ),
                rx.button("Save colour", type="submit", disabled=~S.can_manage),
                align="center",
                wrap="wrap",
            ),
            spacing="1",
        ),
        on_submit=S.save_color,
        reset_on_submit=False,
    )


def logo_form() -> rx.Component:
    return rx.vstack(
        rx.text("Logo", weight="bold", size="2"),
        rx.text(
            "PNG, JPEG or WebP, up to 1 MB. Shown at most 160 by 40 pixels.",
            size="2",
            color_scheme="gray",
        ),
        rx.upload.root(
            rx.vstack(
                rx.button("Choose an image", type="button", variant="soft"),
                rx.text(rx.selected_files(UPLOAD_ID), size="1"),
                align="start",
            ),
            id=UPLOAD_ID,
            accept={
                "image/png": [".png"],
                "image/jpeg": [".jpg", ".jpeg"],
                "image/webp": [".webp"],
            },
            max_files=1,
            max_size=1_048_576,
            border="1px dashed var(--gray-7)",
            padding="1rem",
            border_radius="var(--radius-3)",
            width="100%",
        ),
        rx.hstack(
            rx.button(
                "Upload logo",
                on_click=S.upload_logo(rx.upload_files(upload_id=UPLOAD_ID)),
                disabled=~S.can_manage,
            ),
            rx.cond(
                S.logo_url != "",
                rx.button(
                    "Remove logo",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.remove_logo,
                    disabled=~S.can_manage,
                ),
            ),
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )


@portal_page("/settings/branding", "Checkout branding", on_load=[S.load])
def branding_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Checkout branding", size="7", as_="h1"),
        rx.text(
            "Your customers see this logo and colour when they pay.", color_scheme="gray", size="2"
        ),
        rx.box(
            rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", icon="triangle-alert")),
            role="alert",
            aria_live="assertive",
            width="100%",
        ),
        rx.box(
            rx.cond(S.notice != "", rx.callout(S.notice, color_scheme="green", icon="check")),
            role="status",
            aria_live="polite",
            width="100%",
        ),
        rx.cond(
            S.loaded & ~S.can_manage,
            rx.callout("Only owners and admins can change the branding.", color_scheme="gray"),
        ),
        rx.grid(
            rx.card(
                rx.vstack(color_form(), rx.separator(), logo_form(), spacing="4"), width="100%"
            ),
            preview(),
            columns=rx.breakpoints(initial="1", md="2"),
            width="100%",
            style={"gap": "1rem"},
        ),
        spacing="4",
        width="100%",
        max_width="60rem",
    )
