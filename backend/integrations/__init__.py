"""Adapters to third-party services (Plaid, Twilio, SendGrid), each with an offline sandbox twin.

A twin runs whenever the provider's keys are not set, so the product works offline end to end
and tests reach the real SDKs only through local fakes on 127.0.0.1.
"""
