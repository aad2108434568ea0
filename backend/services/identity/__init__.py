"""Who someone is and what they may do: accounts, sign-up, sign-in sessions, passwords, 2FA and
step-up, team and invitations, permissions, API keys, e-mailed tokens and SMS codes."""
