"""Shared set-up for benchmark scripts: an app on a fresh SQLite file or a throw-away
PostgreSQL cluster, migrated with the project's migrations."""

import argparse
import contextlib
import gc
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_args(description, **extra):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    for name, (kind, default, help_text) in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default, help=help_text)
    return parser.parse_args()


@contextlib.contextmanager
def bench_app(database, **config):
    """An app context on a migrated, empty database of the chosen kind."""
    folder = tempfile.mkdtemp(prefix="proofsheet-bench-")
    cluster = None
    if database == "postgresql":
        from tests.postgres import PostgresCluster, find_postgres_bin

        cluster = PostgresCluster(find_postgres_bin(), free_port())
        cluster.start()
        cluster.create_database("bench")
        url = cluster.url("bench")
    else:
        url = f"sqlite:///{folder}/bench.db"
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "BASE_URL": "https://photos.example.com",
    }
    settings.update(config)
    app = create_app(settings, instance_path=folder)
    try:
        with app.app_context():
            upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if cluster:
            cluster.stop()


@contextlib.contextmanager
def timed(label, results):
    """Time the block into ``results[label]``, starting from a collected heap: a full garbage
    collection of the benchmark's own objects (130-170 ms here) otherwise lands in whichever
    block happens to cross the collector's threshold, and one floor took 0.55 s or 0.72 s
    depending on it."""
    gc.collect()
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


def quiet_alembic():
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("FLASK_DEBUG", "0")
