"""The shop: price lists, promotions, coupons, carts, checkout, orders and their statuses."""

from flask import Blueprint

admin_bp = Blueprint("shop_admin", __name__, url_prefix="/admin/shop")
client_bp = Blueprint("shop", __name__)

from app.shop import admin_routes, client_routes  # noqa: E402,F401


@client_bp.app_context_processor
def _gallery_shop_panel():
    """Templates of the gallery pages show the shop through this global; the galleries package
    itself knows nothing of the shop."""
    from app.shop.client_services import gallery_shop

    return {"gallery_shop": gallery_shop}
