"""What the studio does to a client's access: revoke every private link and signed-in browser."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import timeutil
from app.database import begin_write, get_owned_or_404
from app.extensions import db
from app.galleries import admin_bp, clients
from app.galleries.models import Client


@admin_bp.post("/clients/<int:client_id>/revoke-links")
@login_required
def revoke_client_links(client_id):
    """Every private link (gallery, my orders) of the client stops working and every browser
    signed in as the client is signed out; the client gets new links by email on request."""
    begin_write()
    client = get_owned_or_404(Client, client_id, current_user.studio_id)
    clients.revoke_links(client, timeutil.now())
    db.session.commit()
    flash(
        _(
            "The private links of %(name)s no longer work, and their browsers are signed out. "
            "They can ask for a new link with their email.",
            name=client.name,
        ),
        "success",
    )
    return redirect(request.referrer or url_for("galleries_admin.index"))
