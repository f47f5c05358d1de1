"""Shop admin views (price lists, promotions, coupons, orders)."""

from app.shop import admin_bp  # noqa: F401
