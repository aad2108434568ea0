"""The kernel every layer may import: settings, the database engine and sessions, ids, JSON, errors,
secrets at rest, password and token hashing, currencies, throttles, caches, the job queue and group
commit. Nothing here imports models, services, gateways, integrations or the UI."""
