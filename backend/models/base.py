"""The constraint naming convention of SQLModel.metadata, shared by every table.

With it every index, unique, foreign key, check and primary key constraint gets a deterministic
name on every backend (SQLite included, where unnamed constraints cannot be addressed later), so
a migration can drop or alter a constraint by name, also in batch mode on SQLite.

SQLAlchemy names a constraint when it is attached to its table, that is when a table class is
defined, so this must run before any table class exists. It lives in its own module, rather than
in backend.models.types (a module about column types), and is imported first by
backend/models/__init__.py, which Python runs before any submodule, and by each model module, so
the dependency stays explicit even if a module is imported on its own or the imports reordered.

Names given explicitly in a model, such as Index("ix_payments_merchant_created", ...) or
UniqueConstraint(..., name="uq_membership"), are kept as they are.
"""

from __future__ import annotations

from sqlmodel import SQLModel

# The convention recommended by SQLAlchemy ("Configuring Constraint Naming Conventions").
# A "ck" name needs the constraint's own name: CheckConstraint(..., name="positive_amount").
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

if SQLModel.metadata.tables and SQLModel.metadata.naming_convention != NAMING_CONVENTION:
    # Tables defined earlier already carry unconventional (or no) constraint names.
    raise RuntimeError(
        "backend.models.base must be imported before any SQLModel table is defined: "
        f"already defined: {sorted(SQLModel.metadata.tables)}"
    )

# Set in place: SQLModel.metadata is also the metadata of SQLModel's SQLAlchemy registry, and
# alembic/env.py hands this same object to Alembic as target_metadata.
SQLModel.metadata.naming_convention = NAMING_CONVENTION
