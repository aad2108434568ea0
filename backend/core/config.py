"""Settings: one pydantic-settings class, read from the environment and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # backend/core/config.py -> the project
APP_VERSION = "0.1.0"

# A fixed development secret keeps `make run` working with no configuration; it is refused
# in live mode (see Settings.check_production_ready) so it can never protect real money.
DEV_SECRET = "dev-only-insecure-secret-change-me-0123456789abcdef"


def normalise_database_url(url: str) -> str:
    """Plain postgres:// URLs (as many hosts hand them out) use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Runtime
    app_env: str = Field("development", description="development, test or production")
    app_url: str = Field("http://localhost:3000", description="public base URL of the app")
    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'payportal.db'}", description="SQLAlchemy database URL"
    )
    redis_url: str | None = Field(None, description="Redis URL; enables shared Reflex state")
    jobs_backend: str = Field(
        "auto", description="auto (Redis if REDIS_URL, else a SQLite file) or memory (tests)"
    )
    jobs_db_path: Path | None = Field(
        None, description="Huey's SQLite file (default beside the app)"
    )
    secret_key: str = Field(DEV_SECRET, description="signs sessions and digests API keys")
    encryption_key: str | None = Field(
        None, description="Fernet key for credentials at rest; derived from SECRET_KEY if unset"
    )
    api_rate_limit: str = Field(
        "1000/second", description="requests per API key, in the `limits` notation"
    )
    api_max_body_bytes: int = Field(1_048_576, ge=1024)
    api_read_threads: int = Field(
        6,
        ge=1,
        le=40,
        description="how many read-only requests (health, getting payments...) of a worker "
        "use the database at once; the others wait their turn in order (backend.core.read_threads)",
    )
    cache_ttl_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="how long a worker reuses API key lookups, merchants' fee and risk terms "
        "and gateway configurations before reading them again (0: never cache); a change "
        "made by another worker reaches every worker within this time",
    )
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_max_hours: int = Field(12, ge=1, le=24 * 30)
    uploads_dir: Path | None = Field(
        None,
        description="private files merchants upload (dispute evidence); default var/uploads "
        "beside the app, never inside Reflex's public upload folder",
    )

    # Providers: each one is live only when its keys are set, otherwise its sandbox twin runs.
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = Field(
        None,
        description="Stripe endpoint signing secret(s), whsec_...; during a rotation give the "
        "new and the old one, comma-separated: both are accepted",
    )
    stripe_api_base: str | None = None
    apple_pay_domain_association: Path | None = Field(
        None,
        description="path of Apple's domain-association file for Apple Pay on the checkout "
        "(from Stripe's dashboard), absolute or relative to the project; served at "
        "/.well-known/apple-developer-merchantid-domain-association (unset: 404)",
    )
    paypal_api_base: str | None = Field(
        None,
        description="point the PayPal client at another address (the tests' local fake); "
        "unset: PayPal's own, by each PayPal processor's environment",
    )
    plaid_client_id: str | None = None
    plaid_secret: str | None = None
    plaid_env: str = "sandbox"
    plaid_host: str | None = None
    sandbox_rail_path: Path = Field(
        PROJECT_ROOT / "payportal-sandbox-rail.db",
        description="the offline payout rail twin's SQLite file, shared by the app and the job "
        'worker (":memory:": each process keeps its own, as the tests do)',
    )
    sandbox_rail_post_seconds: float | None = Field(
        20.0,
        ge=0,
        description="seconds after which a twin payout nobody moves by hand is posted "
        '("off": only by hand, as in the tests)',
    )
    sandbox_rail_settle_seconds: float | None = Field(
        60.0,
        ge=0,
        description="seconds after its creation at which such a payout is settled (paid); "
        '"off": only by hand',
    )
    sandbox_bank_settle_seconds: float = Field(
        60.0,
        ge=0,
        description="seconds a sandbox bank debit (ACH) stays processing before its test "
        "account's outcome; a test account that is returned later is returned as long again "
        "after it succeeded (the job runner's bank settle job applies both)",
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_verify_service_sid: str | None = None
    twilio_api_base: str | None = None
    sendgrid_api_key: str | None = None
    sendgrid_from_email: str = "no-reply@payportal.local"
    sendgrid_api_base: str | None = None

    # Outbound webhooks
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, le=30, description="per-attempt timeout of a webhook delivery (each phase)"
    )
    webhooks_allow_loopback: bool = Field(
        False,
        description="let test-mode endpoints use localhost/127.0.0.1/[::1] in any APP_ENV but "
        "production (development allows it anyway); never in live mode, refused in production",
    )

    @field_validator("sandbox_rail_post_seconds", "sandbox_rail_settle_seconds", mode="before")
    @classmethod
    def _off_is_none(cls, value: object) -> object:
        """ "off" (or empty) turns the twin's automatic step off: the environment has no None."""
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none"}:
            return None
        return value

    @field_validator("apple_pay_domain_association", mode="before")
    @classmethod
    def _association_path(cls, value: object) -> object:
        """Empty: not configured; a relative path is the project's."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        path = Path(str(value).strip())
        return path if path.is_absolute() else PROJECT_ROOT / path

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def webhooks_loopback_allowed(self) -> bool:
        """Whether test-mode webhook endpoints may be http(s)://localhost, 127.0.0.1 or [::1]:
        on a development server (APP_ENV=development, what `make run` uses) or with
        WEBHOOKS_ALLOW_LOOPBACK; never in production, whatever the flag says."""
        if self.is_production:
            return False
        return self.app_env == "development" or self.webhooks_allow_loopback

    @property
    def stripe_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def plaid_enabled(self) -> bool:
        return bool(self.plaid_client_id and self.plaid_secret)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def sendgrid_enabled(self) -> bool:
        return bool(self.sendgrid_api_key)

    def check_production_ready(self) -> None:
        """Refuse to serve production with the development secret."""
        if self.is_production and self.secret_key == DEV_SECRET:
            raise RuntimeError("SECRET_KEY must be set to a private value when APP_ENV=production")
        if self.is_production and self.webhooks_allow_loopback:
            # Anyone can sign up and register a test-mode endpoint: loopback would expose the
            # server's own private services to them.
            raise RuntimeError("WEBHOOKS_ALLOW_LOOPBACK must not be set when APP_ENV=production")


@lru_cache
def get_settings() -> Settings:
    return Settings()
