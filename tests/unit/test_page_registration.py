"""Each page is added to the Reflex app once, however often the app compiles.

`reflex run --env prod` compiles in its own process and again in each backend worker it forks;
pages left to Reflex's decorator list were added on each compile and logged "Page … is being
redefined" for every route."""

from __future__ import annotations

import logging

import pytest
from reflex_base.registry import RegistrationContext


def test_pages_are_added_once_and_a_second_compile_adds_none(caplog: pytest.LogCaptureFixture):
    from portal.portal import app

    routes = set(app._unevaluated_pages)
    assert {"dashboard", "developers/api-keys", "pay/[session_id]", "index"} <= routes
    assert RegistrationContext.ensure_context().decorated_pages == []

    with caplog.at_level(logging.WARNING):
        app._apply_decorated_pages()  # what every compile does first (reflex.compiler)
    assert [r.getMessage() for r in caplog.records if "redefined" in r.getMessage()] == []
    assert set(app._unevaluated_pages) == routes
