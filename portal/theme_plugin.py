"""Radix Themes with its stylesheet scoped to the pages that use it.

Reflex's RadixThemesPlugin puts the whole Radix Themes CSS (about 700 kB, 83 kB gzipped) into
the app-wide stylesheet, which blocks the first paint of every route. The hosted checkout uses
none of it (plain elements and its own inlined CSS), and a customer on a phone pays for those
bytes before seeing the order. This plugin keeps everything else Radix does (the package, the
app-level Theme wrapper) but imports the stylesheet from each page module instead, except the
checkout's. Vite then emits it as route CSS: React Router links it in the head of the portal's
prerendered pages and loads it before rendering a portal route on the client, so the portal
never shows unstyled content, and checkout pages never fetch it.
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
        super().compile_page(page_ctx, **kwargs)
        if self.enabled and not is_unthemed(page_ctx.route):
            page_ctx.imports.append({RADIX_THEMES_STYLESHEET: [ImportVar(tag=None)]})
