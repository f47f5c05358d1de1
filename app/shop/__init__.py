"""The shop: price lists, promotions, coupons, carts, checkout, orders and their statuses."""

from flask import Blueprint

admin_bp = Blueprint("shop_admin", __name__, url_prefix="/admin/shop")
client_bp = Blueprint("shop", __name__)

from app.shop import admin_routes, client_routes  # noqa: E402,F401
