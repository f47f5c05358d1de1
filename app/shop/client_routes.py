"""Client shop views (cart, checkout, my orders, downloads)."""

from app.shop import client_bp  # noqa: F401
