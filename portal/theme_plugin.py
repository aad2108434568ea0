"""Radix Themes scoped to the pages that use it: the portal's, not the hosted checkout's.

Reflex's RadixThemesPlugin puts the whole Radix Themes CSS (695 kB, 81 kB gzipped) into the
app-wide stylesheet, which blocks the first paint of every route, and wraps the app root in
Radix's Theme, which puts the Radix Themes package (78 kB gzipped of JavaScript) into the code
every route loads. The hosted checkout uses none of it (plain elements and its own inlined CSS),
and a customer on a phone pays for those bytes before seeing the order.

This plugin does both per page instead, for every page but the checkout's: the page module
imports the stylesheet, so Vite emits it as route CSS (React Router links it in the head of
the prerendered pages and loads it before rendering a route on the client, so the portal never
shows unstyled content), and the page's component tree is wrapped in the configured Theme (the
root Theme of that page, exactly what the app-level wrapper was).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reflex_base.utils.imports import ImportVar
from reflex_components_radix.plugin import RADIX_THEMES_STYLESHEET, RadixThemesPlugin

if TYPE_CHECKING:
    from reflex_base.plugins.compiler import PageContext

# Routes (as given to rx.page) that are styled without Radix Themes.
UNTHEMED_ROUTE_PREFIXES = ("pay/", "link/")


def is_unthemed(route: str) -> bool:
    return route.strip("/").startswith(UNTHEMED_ROUTE_PREFIXES)


class RouteScopedRadixThemes(RadixThemesPlugin):
    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        return ()

    def compile_page(self, page_ctx: PageContext, /, **kwargs: Any) -> None:
        # Not the parent's: that one adds the Theme as an app-level (every route) wrapper.
        if not self.enabled or is_unthemed(page_ctx.route):
            return
        page_ctx.imports.append({RADIX_THEMES_STYLESHEET: [ImportVar(tag=None)]})
        if self.theme is not None:
            theme = page_ctx.own(self.theme)
            theme.children = [page_ctx.root_component]
            page_ctx.imports.append(theme._get_all_imports())
            page_ctx.root_component = theme
