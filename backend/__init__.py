"""PayPortal's framework-free backend: core (the kernel), models (tables), gateways and
integrations (payment processors and other providers, behind protocols with offline twins),
services (one package per domain), and the entry points: api, tasks, cli. Nothing here imports
reflex or the UI; docs/architecture.md draws the layers."""
