"""The page every link of a test email leads to (see test_send.py): public, since the test is
read in a mail app, and it says what the link does in a client's email."""

from flask import Blueprint, abort, render_template

from app.workflows.variables import REGISTRY

test_link_bp = Blueprint("email_test", __name__)


@test_link_bp.get("/email-test/<name>")
def link(name):
    """ "This is a test email": what the %name% link opens in a real client's email."""
    variable = REGISTRY.get(name)
    if variable is None or not variable.is_link:
        abort(404)
    return render_template("workflows/test_link.html", variable=variable)
