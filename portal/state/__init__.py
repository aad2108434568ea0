"""The portal's state classes: each reads the viewer, calls one service function (backend.services)
and copies the answer into its vars. No database sessions, models, gateways or jobs here."""
