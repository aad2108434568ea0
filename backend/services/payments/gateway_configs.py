"""A merchant's payment processors: which gateways take its payments, in what order, for which
payments and at what price. backend.services.payments.routing reads them on every payment.

Members change them from the portal (Settings, Processors) and operators from the admin CLI
(`gateway-add`); both come here, in the caller's unit of work, with an audit row per change.

- A configuration belongs to one merchant and one mode: another merchant's id, or the other
  mode's, is simply not found.
- The sandbox takes test-mode payments only.
- Stripe takes the merchant's own secret or restricted key of the configuration's mode
  (sk_test_/rk_test_ or sk_live_/rk_live_), encrypted at rest and only ever shown masked. No
  key means the platform's own Stripe account.
- With the merchant's own key, Stripe sends that account's events (refunds, disputes) to
  /api/webhooks/stripe/<configuration id>, signed with the endpoint's signing secret (whsec_...)
  stored here beside the key; two comma-separated secrets are both accepted during a rotation.
- PayPal takes the merchant's own PayPal app: its client id and secret (encrypted at rest like
  Stripe's key, the secret never shown again, the client id only masked) and the id of the
  webhook subscribed in that app, which verifies the events PayPal sends to
  /api/webhooks/paypal/<configuration id>. Its environment follows the mode: PayPal's sandbox
  for test mode, live for live mode. There is no platform PayPal account: without a PayPal
  processor, test mode's PayPal payments go to the offline twin and live mode takes none.
- An amount range is in minor units of one currency, so it needs exactly one currency.
- The processor's price (shown as the gateway fee on each payment) is a percentage plus a fixed
  fee in one currency; unset, the gateway's standard price applies (Stripe's 2.9% + 30c).
- Routing tries pinned configurations first, in priority order (lower numbers first), then the
  others cheapest first for each payment, ties in priority order (routing.order_routes). A new
  configuration goes last and is not pinned; `move` swaps one with its neighbour; `set_pinned`
  pins one to the merchant's order or hands it back to cost routing.
- A configuration that has taken payments can be disabled but not deleted: captures, voids and
  refunds of its payments still go through it (routing.route_for_payment).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists
from sqlmodel import Session, select

from backend.core.crypto import decrypt_json, encrypt_json
from backend.core.currency import normalise_currency
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.models import GatewayConfig, Payment, PaymentMethod, utcnow
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.payments.fees import PIPS_PER_UNIT
from backend.services.payments.orders import MAX_AMOUNT
from backend.services.payments.routing import GATEWAY_NAMES, PAYMENT_METHOD_TYPES

PRIORITY_STEP = 10
MAX_CONFIGS = 20  # per merchant and mode: routing reads them all on every payment
MAX_CURRENCIES = 50
_KEY_LENGTH = range(20, 256)
_WEBHOOK_SECRET_LENGTH = range(20, 200)
_PAYPAL_CREDENTIAL_LENGTH = range(10, 129)
_PAYPAL_WEBHOOK_ID_LENGTH = range(5, 65)
MAX_WEBHOOK_SECRETS = 2  # the new one and the one it replaces, while Stripe signs with both


@dataclass(frozen=True)
class Rules:
    """Which payments a configuration takes and what the processor charges for them.

    Empty currencies or methods match every payment; amounts are minor units of the one
    currency; fee_percent_pips is hundredths of a basis point (2.9% is 29,000)."""

    currencies: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    min_amount: int | None = None
    max_amount: int | None = None
    fee_percent_pips: int | None = None
    fee_fixed: int | None = None
    fee_fixed_currency: str | None = None
    # The processor's fee per dispute, in fee_fixed_currency; None: its default (15.00).
    dispute_fee: int | None = None


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def range_currency(currencies: tuple[str, ...]) -> str:
    """The one currency an amount range is written in, or why there is none."""
    if len(currencies) != 1:
        raise ValidationFailed(
            "An amount range is in one currency: choose exactly one currency for it",
            param="currencies",
        )
    return currencies[0]


def _clean_rules(rules: Rules) -> Rules:
    currencies = tuple(dict.fromkeys(normalise_currency(c) for c in rules.currencies))
    if len(currencies) > MAX_CURRENCIES:
        raise ValidationFailed(f"List at most {MAX_CURRENCIES} currencies", param="currencies")
    methods = tuple(dict.fromkeys(rules.methods))
    for method in methods:
        if method not in PAYMENT_METHOD_TYPES:
            raise ValidationFailed(
                f"Payment methods are: {', '.join(PAYMENT_METHOD_TYPES)}", param="methods"
            )
    for param, amount in (("min_amount", rules.min_amount), ("max_amount", rules.max_amount)):
        if amount is not None and not _whole(amount, 0, MAX_AMOUNT):
            raise ValidationFailed("Enter an amount of zero or more", param=param)
    if rules.min_amount is not None or rules.max_amount is not None:
        range_currency(currencies)
    if (
        rules.min_amount is not None
        and rules.max_amount is not None
        and rules.min_amount > rules.max_amount
    ):
        raise ValidationFailed("The smallest amount is above the largest", param="min_amount")
    percent = rules.fee_percent_pips
    if percent is not None and not _whole(percent, 0, PIPS_PER_UNIT):
        raise ValidationFailed("A percentage is between 0 and 100", param="fee_percent")
    fixed, fixed_currency = rules.fee_fixed, rules.fee_fixed_currency
    dispute = rules.dispute_fee
    if dispute is not None and not _whole(dispute, 0, MAX_AMOUNT):
        raise ValidationFailed("Enter a dispute fee of zero or more", param="dispute_fee")
    if fixed is not None and not _whole(fixed, 0, MAX_AMOUNT):
        raise ValidationFailed("Enter a fixed fee of zero or more", param="fee_fixed")
    if fixed is not None or dispute is not None:
        if fixed_currency is None:
            param = "fee_fixed" if fixed is not None else "dispute_fee"
            raise ValidationFailed("Say which currency the fees are in", param=param)
        fixed_currency = normalise_currency(fixed_currency, param="fee_fixed_currency")
    else:
        fixed_currency = None
    return Rules(
        currencies,
        methods,
        rules.min_amount,
        rules.max_amount,
        percent,
        fixed,
        fixed_currency,
        dispute,
    )


def _clean_key(gateway: str, livemode: bool, secret_key: str | None) -> str | None:
    if secret_key is None:
        return None
    if gateway == "paypal":
        return _clean_paypal(secret_key, "secret_key", "That is not a PayPal client secret")
    if gateway != "stripe":
        raise ValidationFailed("Only Stripe takes a secret key", param="secret_key")
    key = secret_key.strip()
    mode = "live" if livemode else "test"
    prefixes = (f"sk_{mode}_", f"rk_{mode}_")
    if not key.startswith(prefixes):
        raise ValidationFailed(
            f"A {mode}-mode Stripe secret key starts with {' or '.join(prefixes)}",
            param="secret_key",
        )
    if len(key) not in _KEY_LENGTH or not key.isascii() or not key.replace("_", "").isalnum():
        raise ValidationFailed("That is not a Stripe secret key", param="secret_key")
    return key


def _clean_paypal(value: str, param: str, message: str) -> str:
    text = value.strip()
    allowed = text.replace("-", "").replace("_", "")
    if len(text) not in _PAYPAL_CREDENTIAL_LENGTH or not text.isascii() or not allowed.isalnum():
        raise ValidationFailed(message, param=param)
    return text


def _clean_webhook_id(webhook_id: str) -> str:
    text = webhook_id.strip()
    if len(text) not in _PAYPAL_WEBHOOK_ID_LENGTH or not text.isascii() or not text.isalnum():
        raise ValidationFailed(
            "Enter the webhook ID PayPal shows for the webhook in your app (letters and digits)",
            param="webhook_id",
        )
    return text


@dataclass(frozen=True)
class PayPalCredentials:
    """What a PayPal processor is set up with; None keeps what is stored."""

    client_id: str | None = None
    webhook_id: str | None = None


def _store_paypal(
    config: GatewayConfig, livemode: bool, secret: str | None, paypal: PayPalCredentials
) -> dict[str, bool]:
    stored = _credentials(config)
    changed: dict[str, bool] = {}
    if paypal.client_id is not None:
        client_id = _clean_paypal(paypal.client_id, "client_id", "That is not a PayPal client ID")
        stored["client_id"], changed["client_id_replaced"] = client_id, True
    if secret is not None:
        stored["client_secret"], changed["key_replaced"] = secret, True
    if paypal.webhook_id is not None:
        stored["webhook_id"] = _clean_webhook_id(paypal.webhook_id)
        changed["webhook_id_replaced"] = True
    if not stored.get("client_id") or not stored.get("client_secret"):
        raise ValidationFailed(
            "PayPal needs your app's client ID and secret (PayPal Developer Dashboard, Apps & "
            "Credentials)",
            param="client_id" if not stored.get("client_id") else "secret_key",
        )
    stored["environment"] = "live" if livemode else "sandbox"
    if changed or not config.credentials_encrypted:
        config.credentials_encrypted = encrypt_json(stored)
    return changed


def paypal_credentials(config: GatewayConfig) -> tuple[str, str, str, str | None] | None:
    """A PayPal processor's client id, secret, environment and webhook id (None: not PayPal
    or not set up)."""
    if config.gateway != "paypal":
        return None
    stored = _credentials(config)
    if not stored.get("client_id") or not stored.get("client_secret"):
        return None
    webhook_id = stored.get("webhook_id")
    return (
        str(stored["client_id"]),
        str(stored["client_secret"]),
        str(stored.get("environment") or "sandbox"),
        str(webhook_id) if webhook_id else None,
    )


def paypal_webhook_source(db: Session, config_id: str) -> GatewayConfig | None:
    """The PayPal configuration an inbound webhook URL names, if it can verify events."""
    config = db.get(GatewayConfig, config_id)
    found = paypal_credentials(config) if config is not None else None
    return config if found is not None and found[3] else None


def _clean_webhook_secret(webhook_secret: str) -> list[str]:
    secrets = [s.strip() for s in webhook_secret.split(",") if s.strip()]
    if not secrets or len(secrets) > MAX_WEBHOOK_SECRETS:
        raise ValidationFailed(
            "Enter the endpoint's signing secret (whsec_…); during a rotation, the new and the "
            "old one separated by a comma",
            param="webhook_secret",
        )
    for secret in secrets:
        valid = secret.startswith("whsec_") and len(secret) in _WEBHOOK_SECRET_LENGTH
        if not valid or not secret.isascii() or not secret.replace("_", "").isalnum():
            raise ValidationFailed(
                "A Stripe signing secret starts with whsec_", param="webhook_secret"
            )
    return secrets


def _credentials(config: GatewayConfig) -> dict[str, object]:
    return decrypt_json(config.credentials_encrypted) if config.credentials_encrypted else {}


def _store_credentials(
    config: GatewayConfig, key: str | None, webhook_secret: str | None
) -> dict[str, bool]:
    """Replace what is given (None keeps what is stored); what changed, for the audit row."""
    stored = _credentials(config)
    changed: dict[str, bool] = {}
    if key is not None:
        stored["secret_key"], changed["key_replaced"] = key, True
    if webhook_secret is not None:
        if not stored.get("secret_key"):
            raise ValidationFailed(
                "A signing secret belongs to your own Stripe account: add its secret key too. "
                "The platform's Stripe account sends its events to the platform.",
                param="webhook_secret",
            )
        stored["webhook_secrets"] = _clean_webhook_secret(webhook_secret)
        changed["webhook_secret_replaced"] = True
    if changed:
        config.credentials_encrypted = encrypt_json(stored)
    return changed


def _store_any(
    config: GatewayConfig,
    livemode: bool,
    key: str | None,
    webhook_secret: str | None,
    paypal: PayPalCredentials | None,
) -> dict[str, bool]:
    if config.gateway == "paypal":
        if webhook_secret is not None:
            raise ValidationFailed(
                "PayPal verifies its events by the webhook ID, not a signing secret",
                param="webhook_secret",
            )
        return _store_paypal(config, livemode, key, paypal or PayPalCredentials())
    if paypal is not None and (paypal.client_id is not None or paypal.webhook_id is not None):
        raise ValidationFailed("Only PayPal takes a client ID and webhook ID", param="client_id")
    return _store_credentials(config, key, webhook_secret)


def webhook_secrets(config: GatewayConfig) -> list[str]:
    """The signing secrets its Stripe account's events are verified with (none: not set up)."""
    found = _credentials(config).get("webhook_secrets")
    return [str(s) for s in found] if isinstance(found, list) else []


def masked_webhook_secret(config: GatewayConfig) -> str | None:
    found = webhook_secrets(config)
    return f"whsec_…{found[0][-4:]}" if found else None


def _apply(config: GatewayConfig, rules: Rules) -> None:
    config.currencies = list(rules.currencies)
    config.methods = list(rules.methods)
    config.min_amount, config.max_amount = rules.min_amount, rules.max_amount
    config.fee_percent_pips = rules.fee_percent_pips
    config.fee_fixed = (
        {rules.fee_fixed_currency: rules.fee_fixed}
        if rules.fee_fixed is not None and rules.fee_fixed_currency
        else None
    )
    config.dispute_fee = (
        {rules.fee_fixed_currency: rules.dispute_fee}
        if rules.dispute_fee is not None and rules.fee_fixed_currency
        else None
    )


def rules_of(config: GatewayConfig) -> Rules:
    fixed = next(iter((config.fee_fixed or {}).items()), None)
    dispute = next(iter((config.dispute_fee or {}).items()), None)
    currency = fixed[0] if fixed else dispute[0] if dispute else None
    return Rules(
        tuple(config.currencies or ()),
        tuple(config.methods or ()),
        config.min_amount,
        config.max_amount,
        config.fee_percent_pips,
        fixed[1] if fixed else None,
        currency,
        dispute[1] if dispute else None,
    )


def masked_key(config: GatewayConfig) -> str | None:
    """The merchant's key as people may see it again (sk_test_...4242; PayPal: its client
    id's start and end), or None."""
    if not config.credentials_encrypted:
        return None
    found = paypal_credentials(config)
    if found is not None:
        return f"{found[0][:4]}\u2026{found[0][-4:]}"
    key = str(decrypt_json(config.credentials_encrypted).get("secret_key") or "")
    prefix = key[: key.index("_", 3) + 1] if key.count("_") >= 2 else ""
    return f"{prefix}\u2026{key[-4:]}" if key else None


# ---------------------------------------------------------------------------------------------
# Reads


def list_configs(db: Session, scope: Scope) -> list[GatewayConfig]:
    """The merchant's configurations of this mode, in the order routing tries them."""
    return list(
        db.exec(
            select(GatewayConfig)
            .where(
                GatewayConfig.merchant_id == scope.merchant_id,
                GatewayConfig.livemode == scope.livemode,
            )
            .order_by(GatewayConfig.priority, GatewayConfig.created_at)  # type: ignore[arg-type]
        )
    )


def is_own_account(config: GatewayConfig) -> bool:
    """A Stripe configuration with the merchant's own key: that Stripe account, not the
    platform's, holds the payments it takes and pays the merchant out itself."""
    return config.gateway == "stripe" and bool(config.credentials_encrypted)


def own_accounts(
    db: Session, *, merchant_id: str | None = None, livemode: bool | None = None
) -> list[GatewayConfig]:
    """The merchants' own Stripe accounts (turned off ones too: they still pay out what they
    hold), of one merchant and mode when given."""
    query = select(GatewayConfig).where(
        GatewayConfig.gateway == "stripe",
        GatewayConfig.credentials_encrypted.is_not(None),  # type: ignore[union-attr]
    )
    if merchant_id is not None:
        query = query.where(GatewayConfig.merchant_id == merchant_id)
    if livemode is not None:
        query = query.where(GatewayConfig.livemode == livemode)
    return list(db.exec(query.order_by(GatewayConfig.created_at, GatewayConfig.id)))


def webhook_source(db: Session, config_id: str) -> GatewayConfig | None:
    """The Stripe configuration an inbound webhook URL names, if it can verify events."""
    config = db.get(GatewayConfig, config_id)
    if config is None or config.gateway != "stripe" or not webhook_secrets(config):
        return None
    return config


def get_config(db: Session, scope: Scope, config_id: str, *, lock: bool = False) -> GatewayConfig:
    query = select(GatewayConfig).where(
        GatewayConfig.id == config_id,
        GatewayConfig.merchant_id == scope.merchant_id,
        GatewayConfig.livemode == scope.livemode,
    )
    if lock:
        query = query.with_for_update()
    found = db.exec(query).first()
    if found is None:
        raise NotFound(f"No such processor: {config_id!r}", param="id")
    return found


def has_payments(db: Session, config_id: str) -> bool:
    """One probe of the partial index ix_payments_gateway_config."""
    return bool(db.exec(select(exists().where(Payment.gateway_config_id == config_id))).one())


# ---------------------------------------------------------------------------------------------
# Changes


def add(
    db: Session,
    scope: Scope,
    *,
    gateway: str,
    secret_key: str | None = None,
    webhook_secret: str | None = None,
    rules: Rules = Rules(),
    priority: int | None = None,
    actor: Actor = SYSTEM,
    paypal: PayPalCredentials | None = None,
) -> GatewayConfig:
    """A new configuration, tried after the existing ones unless a priority is given."""
    if gateway not in GATEWAY_NAMES:
        raise ValidationFailed(
            f"The processor is one of: {', '.join(GATEWAY_NAMES)}", param="gateway"
        )
    if scope.livemode and gateway == "sandbox":
        raise ValidationFailed("The sandbox only takes test-mode payments", param="gateway")
    key = _clean_key(gateway, scope.livemode, secret_key)
    clean = _clean_rules(rules)
    existing = list_configs(db, scope)
    if len(existing) >= MAX_CONFIGS:
        raise Conflict(
            f"An account has at most {MAX_CONFIGS} processors per mode", code="too_many_processors"
        )
    if priority is None:
        priority = max((c.priority for c in existing), default=0) + PRIORITY_STEP
    elif not _whole(priority, 0, 10_000):
        raise ValidationFailed("The priority is a number from 0 to 10000", param="priority")
    config = GatewayConfig(
        id=new_id("gwc"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        gateway=gateway,
        priority=priority,
    )
    _store_any(config, scope.livemode, key, webhook_secret, paypal)
    _apply(config, clean)
    db.add(config)
    _audit(db, config, "gateway_config.created", actor, _summary(config))
    return config


def update(
    db: Session,
    scope: Scope,
    config_id: str,
    *,
    rules: Rules,
    secret_key: str | None = None,
    webhook_secret: str | None = None,
    actor: Actor = SYSTEM,
    paypal: PayPalCredentials | None = None,
) -> GatewayConfig:
    """New rules and price; a new key or signing secret replaces the stored one (None keeps
    it)."""
    config = get_config(db, scope, config_id, lock=True)
    key = _clean_key(config.gateway, scope.livemode, secret_key)
    _apply(config, _clean_rules(rules))
    changed = _summary(config)
    changed.update(_store_any(config, scope.livemode, key, webhook_secret, paypal))
    config.updated_at = utcnow()
    db.add(config)
    _audit(db, config, "gateway_config.updated", actor, changed)
    return config


def set_enabled(
    db: Session, scope: Scope, config_id: str, enabled: bool, *, actor: Actor = SYSTEM
) -> GatewayConfig:
    """Disabled, a configuration takes no new payments; its payments keep using it."""
    return _switch(db, scope, config_id, "enabled", enabled, ("enabled", "disabled"), actor)


def set_pinned(
    db: Session, scope: Scope, config_id: str, pinned: bool, *, actor: Actor = SYSTEM
) -> GatewayConfig:
    """Pinned, a configuration is tried in the merchant's order ahead of the cost-routed ones."""
    return _switch(db, scope, config_id, "pinned", pinned, ("pinned", "unpinned"), actor)


def _switch(
    db: Session,
    scope: Scope,
    config_id: str,
    flag: str,
    value: bool,
    actions: tuple[str, str],
    actor: Actor,
) -> GatewayConfig:
    """Turn one of a configuration's flags on or off, audited as gateway_config.<on|off> when
    it changes."""
    config = get_config(db, scope, config_id, lock=True)
    if getattr(config, flag) != bool(value):
        setattr(config, flag, bool(value))
        config.updated_at = utcnow()
        db.add(config)
        action = f"gateway_config.{actions[0] if value else actions[1]}"
        _audit(db, config, action, actor, {"gateway": config.gateway})
    return config


def move(
    db: Session, scope: Scope, config_id: str, offset: int, *, actor: Actor = SYSTEM
) -> list[GatewayConfig]:
    """Swap a configuration with the one before (offset -1) or after (+1) it; the order comes
    back renumbered in steps of PRIORITY_STEP."""
    if offset not in (-1, 1):
        raise ValidationFailed("Move a processor up (-1) or down (+1)", param="offset")
    get_config(db, scope, config_id, lock=True)
    ordered = list_configs(db, scope)
    index = next(i for i, c in enumerate(ordered) if c.id == config_id)
    other = index + offset
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        now = utcnow()
        for position, config in enumerate(ordered, start=1):
            if config.priority != position * PRIORITY_STEP:
                config.priority, config.updated_at = position * PRIORITY_STEP, now
                db.add(config)
        moved = ordered[other]
        _audit(db, moved, "gateway_config.reordered", actor, {"position": other + 1})
    return ordered


def delete(db: Session, scope: Scope, config_id: str, *, actor: Actor = SYSTEM) -> None:
    config = get_config(db, scope, config_id, lock=True)
    if has_payments(db, config.id):
        raise Conflict(
            "This processor has taken payments, and their captures and refunds still go "
            "through it: turn it off instead",
            code="processor_in_use",
        )
    if db.exec(select(exists().where(PaymentMethod.gateway_config_id == config.id))).one():
        raise Conflict(
            "Customers' cards are saved at this processor and can be charged through it only: "
            "turn it off instead",
            code="processor_in_use",
        )
    _audit(db, config, "gateway_config.deleted", actor, {"gateway": config.gateway})
    db.delete(config)
    db.flush()


def _summary(config: GatewayConfig) -> dict[str, object]:
    return {
        "gateway": config.gateway,
        "priority": config.priority,
        "pinned": bool(config.pinned),
        "currencies": list(config.currencies or ()),
        "methods": list(config.methods or ()),
        "min_amount": config.min_amount,
        "max_amount": config.max_amount,
        "fee_percent_pips": config.fee_percent_pips,
        "fee_fixed": config.fee_fixed,
        "dispute_fee": config.dispute_fee,
        "own_key": config.credentials_encrypted is not None,
        "webhook_secret": bool(webhook_secrets(config)),
        "webhook_id": bool((paypal_credentials(config) or (None, None, None, None))[3]),
    }


def _audit(
    db: Session, config: GatewayConfig, action: str, actor: Actor, details: dict[str, object]
) -> None:
    audit.record_by(db, actor, action, config, "gateway_config", details)
