"""The hosted checkout: checkout sessions, payment links, branding, the card-testing guard, Stripe's
Payment Element for live mode, and the checkout's words in four languages."""
