"""Email workflows: the builder (templates, duplicate, emails, variables, preview, test send,
gallery assignment and timeline) and the campaign engine that sends what is built here."""

from flask import Blueprint

bp = Blueprint("workflows", __name__, url_prefix="/admin/workflows")

# relevance connects to the shop's order_placed signal (the shop knows nothing of workflows).
from app.workflows import gallery_routes, image_routes, relevance, routes  # noqa: E402,F401
