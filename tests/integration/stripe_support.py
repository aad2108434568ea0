"""The platform's Stripe keys pointed at a local FakeStripe, for tests of the live paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.fakes.stripe_api import FakeStripe


@contextmanager
def platform_stripe(monkeypatch: pytest.MonkeyPatch, key: str) -> Iterator[FakeStripe]:
    """STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_API_BASE set for a running fake,
    with the settings and caches read afresh on the way in and out."""
    from tests.conftest import _reset_caches

    with FakeStripe(api_key=key) as fake:
        monkeypatch.setenv("STRIPE_SECRET_KEY", key)
        monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_fake")
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        _reset_caches()
        yield fake
        _reset_caches()
