"""PayPal (Orders v2) as a payment processor: the REST client, the gateway, webhook checks and
the offline twin used in test mode without PayPal credentials."""

from backend.gateways.paypal.client import PayPalClient, PayPalError
from backend.gateways.paypal.gateway import PAYMENT_METHOD_TYPE, PayPalGateway
from backend.gateways.paypal.twin import PayPalTwin

__all__ = ["PAYMENT_METHOD_TYPE", "PayPalClient", "PayPalError", "PayPalGateway", "PayPalTwin"]
