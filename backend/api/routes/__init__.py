"""The API's routers, one module per resource or provider; backend/api/app.py wires them."""
