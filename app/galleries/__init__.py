"""Galleries, photos and their image pipeline, QR access cards, clients and public pages."""

from flask import Blueprint

admin_bp = Blueprint("galleries_admin", __name__, url_prefix="/admin/galleries")
public_bp = Blueprint("galleries_public", __name__)

from app.galleries import (  # noqa: E402,F401
    admin_routes,
    branding_routes,
    card_matching_routes,
    card_routes,
    client_admin_routes,
    favourite_routes,
    public_routes,
    share_routes,
    signin_routes,
    upload_routes,
)
