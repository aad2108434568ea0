"""The billing pages' tab bar. The sidebar has one "Billing" item (/billing, every /billing/…
page lights it up); the billing pages sit side by side under it, so the sidebar still fits a
1280x800 screen as billing grows. Add a page here: (label, href)."""

from __future__ import annotations

import reflex as rx

from portal.state.auth import AuthState

BILLING_TABS: list[tuple[str, str]] = [
    ("Products", "/billing"),
    ("Subscriptions", "/billing/subscriptions"),
    ("Invoices", "/billing/invoices"),
]


def _tab(label: str, href: str) -> rx.Component:
    path = AuthState.router.url.path
    # /billing is the products page itself; deeper pages light up their own tab.
    active = (path == href) if href == "/billing" else (path == href) | path.startswith(href + "/")  # type: ignore[attr-defined]
    return rx.link(
        label,
        href=href,
        underline="none",
        size="2",
        weight="medium",
        padding_x="0.75rem",
        padding_y="0.5rem",
        color=rx.cond(active, "var(--accent-11)", "var(--gray-11)"),
        border_bottom=rx.cond(active, "2px solid var(--accent-9)", "2px solid transparent"),
        aria_current=rx.cond(active, "page", "false"),
    )


def billing_tabs() -> rx.Component:
    return rx.el.nav(
        rx.flex(
            *(_tab(label, href) for label, href in BILLING_TABS),
            wrap="wrap",
            border_bottom="1px solid var(--gray-5)",
            width="100%",
        ),
        aria_label="Billing",
        width="100%",
    )
