"""Placeholder views; replaced by the accounts work."""

from flask import redirect, url_for
from flask_login import current_user

from app.accounts import bp
from app.accounts.models import User
from app.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


@bp.get("/")
def home():
    """Staff land on their galleries; everyone else on the log-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("galleries_admin.index"))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "login"


@bp.post("/logout")
def logout():
    return redirect(url_for("accounts.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    return "signup"


@bp.get("/profile")
def profile():
    return "profile"
