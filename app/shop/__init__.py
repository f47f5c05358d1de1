"""The shop: price lists, promotions, coupons, carts, checkout, orders and their statuses."""

from flask import Blueprint

admin_bp = Blueprint("shop_admin", __name__, url_prefix="/admin/shop")
client_bp = Blueprint("shop", __name__)

from app.shop import (  # noqa: E402,F401
    admin_routes,
    client_routes,
    download_routes,
    notifications,
    order_email_routes,
    payment_routes,
    review_routes,
    stripe_webhooks,
)


@client_bp.app_context_processor
def _gallery_shop_panel():
    """Templates of the gallery pages show the shop through this global; the galleries package
    itself knows nothing of the shop."""
    from app.shop.client_services import gallery_shop

    return {"gallery_shop": gallery_shop}


@admin_bp.app_context_processor
def _review_count():
    """How many order emails wait for an operator's review (shown in the navigation)."""
    from flask_login import current_user

    def count():
        if not current_user.is_authenticated:
            return 0
        return notifications.held_count(current_user.studio_id)

    return {"emails_to_review": count}
