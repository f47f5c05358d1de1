"""Email workflows: the builder (templates, duplicate, emails, variables, preview, test send,
gallery assignment and timeline) and the campaign engine that sends what is built here."""

from flask import Blueprint

bp = Blueprint("workflows", __name__, url_prefix="/admin/workflows")

from app.workflows import gallery_routes, image_routes, routes  # noqa: E402,F401
