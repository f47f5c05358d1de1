"""The studio's clients: a list to find one, and a client's page with their galleries, cards,
orders and every email they received, are waiting for, will get or were spared (with why).

Above every other feature package: it reads galleries, the shop, the workflows' schedule and
the outbox, and none of them imports it.
"""

from flask import Blueprint

bp = Blueprint("clients_admin", __name__, url_prefix="/admin/clients")

from app.clients import routes  # noqa: E402,F401
