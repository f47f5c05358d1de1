"""The studio's clients: find one, see everything about their access and their mail."""

from flask import render_template, request
from flask_login import current_user, login_required

from app import timeutil
from app.clients import bp, services
from app.database import get_owned_or_404
from app.galleries.models import Client
from app.workflows.activity import STATE_LABELS


@bp.get("/")
@login_required
def index():
    """The studio's clients, newest first, searchable by name or email."""
    query = request.args.get("q", "")
    rows = services.find_clients(current_user.studio_id, query)
    return render_template("clients/index.html", rows=rows, query=query)


@bp.get("/<int:client_id>")
@login_required
def detail(client_id):
    """One client: galleries, cards, orders, and every email received, waiting, coming or not
    sent (with why)."""
    client = get_owned_or_404(Client, client_id, current_user.studio_id)
    page = services.client_page(current_user.studio_id, client, timeutil.now())
    return render_template("clients/detail.html", page=page, client=client, labels=STATE_LABELS)
