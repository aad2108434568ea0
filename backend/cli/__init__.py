"""Admin CLI commands too large to live in backend/__main__.py, one module each."""
