"""Placeholder."""

from flask_login import login_required

from app.galleries import admin_bp


@admin_bp.get("/")
@login_required
def index():
    return "galleries"
