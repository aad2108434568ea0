"""The signed-in portal frame: a sidebar on wide screens, a drawer on phones, a header on top
with the account menu (who is signed in, Security, Your sessions, Sign out), so the account's
items never sit below the fold of a scrolled sidebar.

Landmarks: the header is `<header>`, the sidebar and the drawer's links are `<nav>`, the page
is `<main>`."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from backend.services import labels
from portal.components.step_up import step_up_dialog
from portal.components.verify_banner import verify_banner
from portal.state.auth import AuthState
from portal.state.mode import ModeState
from portal.theme import BRAND, DESKTOP_ONLY, MOBILE_ONLY, SIDEBAR_WIDTH

# The sidebar's sections: (heading, [(label, href, lucide icon)]); "" means no heading. An
# absolute http(s) URL or /api/… opens in a new tab: it is not a page of the portal.
NAV_SECTIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "",
        [
            ("Dashboard", "/dashboard", "layout-dashboard"),
            ("Payments", "/payments", "credit-card"),
            ("Balance", "/balance", "wallet"),
            ("Customers", "/customers", "users"),
            ("Disputes", "/disputes", "shield-alert"),
            ("Statements", "/statements", "file-text"),
            ("Payment links", "/payment-links", "link"),
            ("Billing", "/billing", "repeat"),
            ("Reconciliation", "/reconciliation", "scale"),
        ],
    ),
    (
        "Processing",
        [
            ("Processors", "/settings/processors", "route"),
            ("Risk rules", "/settings/risk", "shield-ban"),
        ],
    ),
    (
        "Developers",
        [
            ("API keys", "/developers/api-keys", "key-round"),
            ("Webhooks", "/developers/webhooks", "webhook"),
            ("API reference", "/api/docs", "book-open"),
        ],
    ),
    (
        "Account",
        [
            ("Team", "/team", "user-cog"),
            ("Audit log", "/audit-log", "scroll-text"),
            ("Settings", "/settings", "settings"),
            ("Branding", "/settings/branding", "palette"),
            ("Bank account", "/settings/bank", "landmark"),
        ],
    ),
]
NAV_ITEMS = [item for _, items in NAV_SECTIONS for item in items]
# The account menu in the header: the signed-in person's own pages.
ACCOUNT_ITEMS: list[tuple[str, str, str]] = [
    ("Security", "/settings/security", "shield-check"),
    ("Your sessions", "/settings/sessions", "monitor-smartphone"),
]


def _external(href: str) -> bool:
    return href.startswith(("http://", "https://", "/api/"))


def logo() -> rx.Component:
    return rx.hstack(
        rx.image(src="/logo.svg", width="28px", height="28px", alt=""),
        rx.text("PayPortal", weight="bold", size="4"),
        align="center",
        spacing="2",
    )


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    if _external(href):
        # Served by the API, not a portal page: a plain anchor in a new tab.
        return rx.link(
            rx.hstack(
                rx.icon(icon, size=18),
                rx.text(label, size="2"),
                rx.icon("external-link", size=14, color="var(--gray-10)", aria_hidden="true"),
                align="center",
                spacing="3",
            ),
            href=href,
            is_external=True,
            rel="noopener",
            underline="none",
            padding_x="0.75rem",
            padding_y="0.3125rem",
            border_radius="var(--radius-3)",
            color="var(--gray-12)",
            _hover={"background": "var(--gray-3)"},
            aria_label=f"{label} (opens in a new tab)",
            width="100%",
        )
    path = AuthState.router.url.path
    active = path == href
    # A section's pages (/payments/pay_1) light up its item, unless the deeper path has an item
    # of its own (/settings/branding is not /settings).
    if not any(other.startswith(href + "/") for _, other, _ in NAV_ITEMS + ACCOUNT_ITEMS):
        active = active | path.startswith(href + "/")  # type: ignore[attr-defined]
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="2"), align="center", spacing="3"),
        href=href,
        underline="none",
        padding_x="0.75rem",
        padding_y="0.3125rem",
        border_radius="var(--radius-3)",
        color=rx.cond(active, "var(--accent-11)", "var(--gray-12)"),
        background=rx.cond(active, "var(--accent-3)", "transparent"),
        _hover={"background": "var(--gray-3)"},
        aria_current=rx.cond(active, "page", "false"),
        width="100%",
    )


def nav_section(heading: str, items: list[tuple[str, str, str]]) -> rx.Component:
    links = [nav_link(*item) for item in items]
    if heading:
        links.insert(
            0,
            rx.text(heading, size="1", weight="medium", color_scheme="gray", padding_x="0.75rem"),
        )
    return rx.vstack(*links, spacing="1", width="100%")


def nav_links() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            *(nav_section(heading, items) for heading, items in NAV_SECTIONS),
            spacing="2",
            width="100%",
        ),
        aria_label="Main",
        width="100%",
    )


def role_label() -> rx.Var:
    return rx.match(AuthState.role, *labels.ROLES.items(), AuthState.role).to(str)


def account_menu() -> rx.Component:
    """Who is signed in, where, as what; their security pages; Sign out."""
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.button(
                rx.icon("circle-user-round", size=20),
                rx.text(
                    AuthState.user_email,
                    size="2",
                    truncate=True,
                    max_width="14rem",
                    display=DESKTOP_ONLY,
                ),
                rx.icon("chevron-down", size=14),
                variant="ghost",
                color_scheme="gray",
                size="2",
                aria_label="Account menu",
            ),
        ),
        rx.dropdown_menu.content(
            rx.box(
                rx.text(AuthState.user_email, size="2", weight="medium", word_break="break_all"),
                rx.text(
                    AuthState.merchant_name + " · " + role_label(),
                    size="1",
                    color_scheme="gray",
                ),
                padding_x="0.75rem",
                padding_y="0.5rem",
                max_width="18rem",
            ),
            rx.dropdown_menu.separator(),
            *(
                rx.dropdown_menu.item(
                    rx.hstack(rx.icon(icon, size=16), label, align="center", spacing="2"),
                    on_select=rx.redirect(href),
                )
                for label, href, icon in ACCOUNT_ITEMS
            ),
            rx.dropdown_menu.separator(),
            rx.dropdown_menu.item(
                rx.hstack(rx.icon("log-out", size=16), "Sign out", align="center", spacing="2"),
                on_select=AuthState.sign_out,
            ),
            align="end",
            min_width="14rem",
        ),
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(
            logo(),
            rx.separator(),
            nav_links(),
            height="100%",
            # Tight enough that every item fits a 1280x800 screen without scrolling. Billing's
            # pages share one item (/billing) and a tab bar of their own.
            spacing="3",
            padding="1rem",
            width="100%",
        ),
        display=DESKTOP_ONLY,
        overflow_x="hidden",
        overflow_y="auto",
        position="fixed",
        top="0",
        left="0",
        width=SIDEBAR_WIDTH,
        height="100vh",
        border_right="1px solid var(--gray-5)",
        background="var(--gray-1)",
    )


def mobile_drawer() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open menu", size="3"),
        ),
        rx.drawer.overlay(z_index="50"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        logo(),
                        rx.spacer(),
                        rx.drawer.close(
                            rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close menu")
                        ),
                        width="100%",
                        align="center",
                    ),
                    rx.separator(),
                    nav_links(),
                    height="100%",
                    spacing="4",
                    padding="1rem",
                ),
                top="0",
                left="0",
                height="100%",
                width="min(18rem, 85vw)",
                overflow_y="auto",
                background="var(--color-panel-solid)",
                z_index="51",
            )
        ),
        direction="left",
    )


def mode_badge() -> rx.Component:
    """The mode switch: live data is signalled loudly (solid red), test data in orange."""
    return rx.el.label(
        rx.hstack(
            rx.cond(
                AuthState.livemode,
                rx.badge("Live mode", color_scheme="red", variant="solid", size="2"),
                rx.badge("Test mode", color_scheme="orange", variant="soft", size="2"),
            ),
            rx.switch(
                checked=AuthState.livemode,
                on_change=ModeState.switch_mode,
                color_scheme="red",
                aria_label="Live mode",
            ),
            align="center",
            spacing="2",
        ),
        title="Switch between test data and live data",
    )


def header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.box(mobile_drawer(), display=MOBILE_ONLY),
            rx.text(AuthState.merchant_name, weight="medium", size="3", trim="both", truncate=True),
            rx.spacer(),
            mode_badge(),
            account_menu(),
            align="center",
            spacing="3",
            padding_x=["0.75rem", "1rem", "2rem"],
            height="100%",
        ),
        height="3.5rem",
        # Live data: a red rule under the header on every page, beside the red badge.
        border_bottom=rx.cond(
            AuthState.livemode, "3px solid var(--red-9)", "1px solid var(--gray-5)"
        ),
        background="var(--color-background)",
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
    )


def portal_frame(content: rx.Component) -> rx.Component:
    return rx.box(
        sidebar(),
        rx.box(
            header(),
            verify_banner(),
            rx.el.main(
                rx.box(content, padding=["1rem", "1rem", "2rem"], max_width="80rem"),
                id="main",
            ),
            margin_left=["0", "0", SIDEBAR_WIDTH],
            min_height="100vh",
        ),
        step_up_dialog(),
        # Hide the signed-in frame until the session check on load has filled in the user.
        visibility=rx.cond(AuthState.user_email != "", "visible", "hidden"),
    )


def portal_page(
    route: str, title: str, on_load: list | None = None
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a signed-in page: the session is checked on load, before the page's own loaders."""

    def decorator(view: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return portal_frame(view())

        page.__name__ = view.__name__
        rx.page(
            route=route,
            title=f"{title} · PayPortal",
            on_load=[AuthState.require_session, *(on_load or [])],
        )(page)
        return view

    return decorator


__all__ = ["BRAND", "portal_page"]
