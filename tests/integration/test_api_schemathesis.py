"""Property-based run over the API's own OpenAPI document: no 500, no undocumented response.

Schemathesis generates valid and invalid requests for every operation from /api/openapi.json
and sends them to the application in-process, authenticated as a real test-mode merchant.
test_input_hygiene.py complements it: a deterministic sweep of NUL, lone surrogates, control
characters and deep nesting over every operation, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api_client import new_merchant

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(_migrated_sqlite_template, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The API on its own migrated SQLite database (fixture parametrization and schemathesis's
    own parametrization do not mix, so this one does not go through `app_database`)."""
    import shutil

    from backend.api import create_app
    from tests.conftest import _reset_caches

    path = tmp_path / "schemathesis.db"
    shutil.copyfile(_migrated_sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    _reset_caches()
    yield schemathesis.openapi.from_asgi("/api/openapi.json", create_app())
    _reset_caches()


@pytest.fixture
def merchant_key(api_schema) -> str:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    return new_merchant(TestClient(api_schema.app)).key


def test_api_conforms_to_its_schema(api_schema, merchant_key: str) -> None:  # type: ignore[no-untyped-def]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    headers = {"Authorization": f"Bearer {merchant_key}"}
    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
