"""The state every keyset-paged list page shares: rows, "Load more", the error and the
loaded flag, and the optional search box. A page's state mixes one in and says only how to
fetch one page of its rows."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from portal.state.auth import AuthState
from portal.state.viewer import Viewer, current_viewer


class KeysetListState(rx.State, mixin=True):
    rows: list[dict[str, str]] = []
    has_more: bool = False
    error: str = ""
    loaded: bool = False
    _cursor: str | None = None

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        return self._search(reset=True)

    @rx.event
    def load_more(self):  # type: ignore[no-untyped-def]
        return self._search(reset=False)

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        """One page of display rows and the cursor of the next page (None on the last)."""
        raise NotImplementedError

    def _search(self, *, reset: bool):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:  # the service checks the member may read the merchant's data
            found, next_cursor = self._fetch_page(
                viewer, cursor=None if reset else self._cursor, reset=reset
            )
        except ServiceError as exc:
            self.error = exc.message
            self.loaded = True
            return None
        self.rows = found if reset else [*self.rows, *found]
        self._cursor = next_cursor
        self.has_more = next_cursor is not None
        self.error = ""
        self.loaded = True
        return None


class SearchableListState(KeysetListState, mixin=True):
    query: str = ""

    @rx.event
    def set_query(self, value: str) -> None:
        self.query = value[:200]

    @rx.event
    def submit_search(self, _form: dict[str, str]):  # type: ignore[no-untyped-def]
        return self._search(reset=True)
