"""The state every keyset-paged list page shares: rows, "Load more", the error and the
loaded flag, and the optional search box or status filter. A page's state mixes one in and
says only how to fetch one page of its rows."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import ServiceError
from portal.state.auth import AuthState
from portal.state.formatting import strings
from portal.state.viewer import Viewer, current_viewer

ALL = "all"  # a status filter's "every status"


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


class StatusListState(KeysetListState, mixin=True):
    """A list with a status filter: ALL, or one status code (a select's item cannot be "").
    A page's state says which codes exist and how to fetch one page of one status."""

    status: str = "all"

    def _status_codes(self) -> set[str]:
        raise NotImplementedError

    def _list(self, viewer: Viewer, *, status: str, cursor: str | None) -> Any:
        """One page (rows, next_cursor) of the service's list; status "" is all."""
        raise NotImplementedError

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        status = "" if self.status == ALL else self.status
        found = self._list(viewer, status=status, cursor=cursor)
        return [strings(r) for r in found.rows], found.next_cursor

    @rx.event
    def choose_status(self, value: str):  # type: ignore[no-untyped-def]
        self.status = value if value in self._status_codes() else ALL
        return self._search(reset=True)
