"""backend.core.config.Settings: defaults, environment overrides and the production guard."""

from __future__ import annotations

import os

import pytest

from backend.core.config import DEV_SECRET, PROJECT_ROOT, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop every variable Settings would read, so the developer's shell cannot leak in."""
    fields = set(Settings.model_fields)
    for name in list(os.environ):
        if name.lower() in fields:
            monkeypatch.delenv(name)


def make_settings() -> Settings:
    return Settings(_env_file=None)  # ignore any .env file in the project


def test_defaults() -> None:
    settings = make_settings()

    assert settings.app_env == "development"
    assert not settings.is_production
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'payportal.db'}"
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.secret_key == DEV_SECRET
    assert not settings.stripe_enabled
    assert not settings.plaid_enabled
    assert not settings.twilio_enabled
    assert not settings.sendgrid_enabled


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app:pw@db:5432/payportal")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")

    settings = make_settings()

    assert settings.database_url == "postgresql+psycopg://app:pw@db:5432/payportal"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.stripe_enabled
    assert not settings.plaid_enabled


def test_providers_need_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAID_CLIENT_ID", "client")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    assert not make_settings().plaid_enabled
    assert not make_settings().twilio_enabled

    monkeypatch.setenv("PLAID_SECRET", "secret")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.key")
    settings = make_settings()
    assert settings.plaid_enabled
    assert settings.twilio_enabled
    assert settings.sendgrid_enabled


@pytest.mark.parametrize(
    "url",
    ["postgres://app:pw@db:5432/payportal", "postgresql://app:pw@db:5432/payportal"],
)
def test_postgres_urls_use_psycopg(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    assert make_settings().database_url == "postgresql+psycopg://app:pw@db:5432/payportal"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    settings = make_settings()
    assert settings.is_production

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        settings.check_production_ready()

    monkeypatch.setenv("SECRET_KEY", "a-private-production-secret-of-decent-length")
    make_settings().check_production_ready()  # no error


def test_development_accepts_the_development_secret() -> None:
    make_settings().check_production_ready()  # no error outside production


def test_env_file_is_read_only_when_asked(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("REDIS_URL=redis://from-dotenv:6379/0\n")

    assert Settings(_env_file=env_file).redis_url == "redis://from-dotenv:6379/0"
    assert make_settings().redis_url is None
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")
    assert Settings(_env_file=env_file).redis_url == "redis://from-env:6379/0"  # env wins


def test_the_project_root_is_the_checkout_not_a_package():
    # The default database, .env, uploads and the job queue's file all hang off PROJECT_ROOT.
    assert (PROJECT_ROOT / "pyproject.toml").is_file()
    assert (PROJECT_ROOT / "alembic.ini").is_file()
