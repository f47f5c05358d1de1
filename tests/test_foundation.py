"""The app factory, configuration, migrations and time storage."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app import create_app
from app.config import load_environment, normalize_database_url
from app.extensions import db
from app.galleries.models import Gallery
from app.timeutil import from_local
from tests import factories


@pytest.mark.no_database
def test_migrations_have_exactly_one_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrated_schema_matches_the_models(app):
    """Autogenerate finds nothing to do: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []


def test_timestamps_round_trip_as_aware_utc(app, owner):
    gallery = factories.make_gallery(
        owner.studio, sale_starts_at=datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=1)))
    )
    db.session.expire_all()
    stored = db.session.get(Gallery, gallery.id).sale_starts_at
    assert stored == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("stored_text", "expected"),
    [
        ("2026-03-01 07:00:00.250000", datetime(2026, 3, 1, 7, 0, 0, 250000, tzinfo=UTC)),
        ("2026-03-01 07:00:00", datetime(2026, 3, 1, 7, tzinfo=UTC)),  # as SQL's datetime() writes
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_sqlite_timestamp_texts_read_back_as_aware_utc(app, owner, database_url, stored_text, expected):
    """SQLite keeps text: what SQLAlchemy writes is read by the quick parser, other forms by
    SQLAlchemy's own."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps timestamps with their zone")
    gallery = factories.make_gallery(owner.studio)
    db.session.execute(
        sa.text("UPDATE gallery SET sale_starts_at = :text, sale_ends_at = NULL WHERE id = :id"),
        {"text": stored_text, "id": gallery.id},
    )
    db.session.commit()
    db.session.expire_all()
    read = db.session.get(Gallery, gallery.id)
    assert read.sale_starts_at == expected and read.sale_starts_at.utcoffset() == timedelta(0)
    assert read.sale_ends_at is None


def test_naive_timestamps_are_refused(app, owner):
    gallery = factories.make_gallery(owner.studio)
    gallery.sale_starts_at = datetime(2026, 3, 1, 8)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    ("wall_clock", "zone", "expected_utc"),
    [
        # spring forward: 02:30 does not exist in Paris on 29 March 2026; it goes at 03:30 CEST
        (datetime(2026, 3, 29, 2, 30), "Europe/Paris", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # fall back: 02:30 happens twice on 25 October 2026; the first one (CEST) is taken
        (datetime(2026, 10, 25, 2, 30), "Europe/Paris", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (datetime(2026, 3, 8, 2, 30), "America/New_York", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        (datetime(2026, 7, 1, 9, 0), "Asia/Tokyo", datetime(2026, 7, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_local_wall_clock_to_utc_handles_daylight_saving(wall_clock, zone, expected_utc):
    assert from_local(wall_clock, zone) == expected_utc


def test_environment_overrides_defaults():
    config = {}
    load_environment(
        config,
        {
            "PROOFSHEET_MAIL_PORT": "2525",
            "PROOFSHEET_MAIL_USE_TLS": "yes",
            "DATABASE_URL": "postgres://u@h/db",
        },
    )
    assert config["MAIL_PORT"] == 2525 and config["MAIL_USE_TLS"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_environment_value_of_the_wrong_type_is_a_clear_error():
    with pytest.raises(ValueError, match="PROOFSHEET_MAIL_PORT must be a whole number"):
        load_environment({}, {"PROOFSHEET_MAIL_PORT": "twenty-five"})


def test_normalize_database_url_keeps_other_urls():
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_factory_puts_everything_under_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path / "inst"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'proofsheet.db'}"
    assert app.config["UPLOAD_FOLDER"] == str(tmp_path / "inst" / "uploads")
    key = app.config["SECRET_KEY"]
    assert len(key) == 64
    assert create_app(instance_path=str(tmp_path / "inst")).config["SECRET_KEY"] == key
