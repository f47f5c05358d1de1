"""Proofsheet: client galleries, a photo shop and email campaigns for photographers."""

import os
import secrets
from pathlib import Path

from flask import Flask

from app import config as config_module
from app import request_limits, security_headers


def create_app(test_config=None, instance_path=None):
    """Build the app: defaults, instance/config.py, environment, then ``test_config``.

    Creating the app has no side effects beyond making the instance folder: no migrations, no
    network, and the scheduler starts only where configured. ``instance_path`` (or the
    PROOFSHEET_INSTANCE_PATH variable) moves the instance folder, as tests and operators need.
    """
    instance_path = instance_path or os.environ.get("PROOFSHEET_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    config_module.load_environment(app.config)
    if test_config:
        app.config.from_mapping(test_config)
    _fill_instance_defaults(app)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_template_helpers(app)
    config_module.warn_if_insecure_base_url(app)
    security_headers.init_app(app)
    request_limits.init_app(app)
    return app


def _fill_instance_defaults(app):
    """Put the database, uploads, mail sink and secret key under instance/ unless configured."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        app.config["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{instance / 'proofsheet.db'}"
    )
    app.config["UPLOAD_FOLDER"] = app.config["UPLOAD_FOLDER"] or str(instance / "uploads")
    app.config["MAIL_SINK_FOLDER"] = app.config["MAIL_SINK_FOLDER"] or str(instance / "mail-sink")
    app.config["SMS_SINK_FOLDER"] = app.config["SMS_SINK_FOLDER"] or str(instance / "sms-sink")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(instance / "secret_key")


def _instance_secret_key(path):
    """A random key kept in instance/, so sessions survive restarts without any configuration."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _init_extensions(app):
    from app import database, models  # noqa: F401  (models: so metadata knows every table)
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.i18n import select_locale, select_timezone
    from app.mailing.transport import mail

    database.register_sqlite_pragmas()
    db.init_app(app)
    database.init_app(app)  # SQLite: writing requests take the write lock first; 503 when busy
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    mail.init_app(app)


def _register_blueprints(app):
    from app.accounts import bp as accounts_bp
    from app.clients import bp as clients_bp
    from app.galleries import admin_bp as galleries_admin_bp
    from app.galleries import public_bp as galleries_public_bp
    from app.mailing import bp as mailing_bp
    from app.mailing import public_bp as mailing_public_bp
    from app.shop import admin_bp as shop_admin_bp
    from app.shop import client_bp as shop_client_bp
    from app.sms import bp as sms_bp
    from app.sms import public_bp as sms_public_bp
    from app.workflows import bp as workflows_bp
    from app.workflows.activity import bp as activity_bp
    from app.workflows.routes import media_bp
    from app.workflows.test_link_routes import test_link_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(galleries_admin_bp)
    app.register_blueprint(galleries_public_bp)
    app.register_blueprint(mailing_bp)
    app.register_blueprint(mailing_public_bp)
    app.register_blueprint(shop_admin_bp)
    app.register_blueprint(shop_client_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(sms_public_bp)
    app.register_blueprint(activity_bp)
    app.register_blueprint(workflows_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(test_link_bp)


def _register_cli(app):
    from app.cli import register_commands

    register_commands(app)


def _register_template_helpers(app):
    from app import templating

    templating.init_app(app)
