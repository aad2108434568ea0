"""Column writes on an instance no session has seen yet, without the ORM's change tracking.

The charge path builds its order and payment as new instances (backend.core.db.new_instance),
sets about thirty columns on them while it scores, routes and prices the payment, then inserts
them and hands them to the session as if loaded (backend.core.db.adopt). SQLModel routes every one
of those writes through SQLAlchemy's instrumentation and then pydantic's, which records
history that no one reads: an INSERT takes the instance's values, not its history, and
adopting it marks everything as committed. For such an instance (no identity, no session) a
column write here is a plain one; anything else goes through SQLModel as usual.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

_COLUMNS: dict[type, frozenset[str]] = {}


def _columns(model: type) -> frozenset[str]:
    found = _COLUMNS.get(model)
    if found is None:
        mapper: Any = model.__mapper__  # type: ignore[attr-defined]
        found = _COLUMNS[model] = frozenset(prop.key for prop in mapper.column_attrs)
    return found


def transient_setattr(self: SQLModel, name: str, value: Any) -> None:
    """`__setattr__` for table models whose new instances are built and filled in bulk."""
    state = self.__dict__.get("_sa_instance_state")
    if (
        state is not None
        and state.key is None
        and state.session_id is None
        and name in _columns(type(self))
    ):
        self.__dict__[name] = value
        self.__pydantic_fields_set__.add(name)
        return
    SQLModel.__setattr__(self, name, value)
