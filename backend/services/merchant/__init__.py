"""A merchant's own settings and set-up: business profile, onboarding checklist, payout bank
account, notifications, the Developers pages' actions, the quickstart and the demo merchant."""
