"""Keyset pages of a merchant's objects, newest first: the API's `limit` / `cursor` lists.

The cursor is the id of the last item of a page, so a page never skips or repeats a row while
new ones arrive; a cursor of another merchant, mode or kind of object is refused.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, and_, col, or_, select

from backend.core.errors import ValidationFailed
from backend.services.context import Scope

MAX_LIMIT = 100
M = TypeVar("M")


def keyset_page(
    db: Session, scope: Scope, model: type[M], query: Any, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """One page of `query` (a select of `model`, already filtered to the merchant) after
    `cursor`, newest first by (created_at, id), and the next page's cursor (None: the last)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be from 1 to {MAX_LIMIT}", param="limit")
    created, ident = col(model.created_at), col(model.id)  # type: ignore[attr-defined]
    if cursor is not None:
        last = db.exec(
            select(model.created_at).where(  # type: ignore[attr-defined]
                model.id == cursor,  # type: ignore[attr-defined]
                model.merchant_id == scope.merchant_id,  # type: ignore[attr-defined]
                model.livemode == scope.livemode,  # type: ignore[attr-defined]
            )
        ).first()
        if last is None:
            raise ValidationFailed("cursor is not one this list gave", param="cursor")
        query = query.where(or_(created < last, and_(created == last, ident < cursor)))
    rows = db.exec(query.order_by(created.desc(), ident.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return page, (page[-1].id if len(rows) > limit else None)  # type: ignore[attr-defined]
