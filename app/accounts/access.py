"""Who may do what among a studio's staff."""

from functools import wraps

from flask import abort
from flask_login import current_user


def owner_required(view):
    """Only the studio's owner (after ``login_required``): operators get a 403 page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
