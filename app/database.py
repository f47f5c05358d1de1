"""Database helpers shared by every feature package."""

import contextvars
import json
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from flask import abort, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.extensions import db

_pragmas_registered = False
# SQLite's page cache per connection, in KiB (negative: a size, not a page count). Its default,
# 2 MiB, holds less than one large tick writes; the tick's indexes are then read back from the
# file while it inserts.
SQLITE_CACHE_KIB = -65536
_sqlite_writer = contextvars.ContextVar("sqlite_writer", default=False)
# Set on a connection when its current SQLite transaction began as a writer (BEGIN IMMEDIATE).
_WRITER_INFO = "proofsheet_sqlite_writer"


def register_sqlite_pragmas():
    """Enforce foreign keys, let readers and one writer work at once, and let us say when a
    transaction will write (``begin_write``) on SQLite."""
    global _pragmas_registered
    if _pragmas_registered:
        return
    _pragmas_registered = True

    @sa.event.listens_for(sa.Engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if not _is_sqlite(dbapi_connection):
            return
        # We emit BEGIN ourselves (below), so the driver must not start transactions itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints instead of every commit: still safe against
        # crashes of the application, and the dispatcher commits once per message.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
        cursor.close()

    @sa.event.listens_for(sa.Engine, "begin")
    def _on_begin(connection):
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement is its own transaction (see ``autocommit_connection``)
        if connection.dialect.name == "sqlite":
            mode = options.get("sqlite_begin", "IMMEDIATE" if _sqlite_writer.get() else "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")
            connection.info[_WRITER_INFO] = mode != "DEFERRED"


def _is_sqlite(dbapi_connection):
    return type(dbapi_connection).__module__.startswith("sqlite3")


def begin_write():
    """Start this request's transaction as a writer, before its first query.

    On SQLite a deferred transaction that reads, then writes, fails at once ("database is
    locked") when another writer committed in between; BEGIN IMMEDIATE takes the write lock
    first and waits for it instead. PostgreSQL needs nothing: it locks rows as they are updated.
    A transaction that already began as a writer (a writing request, an earlier call) is kept.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return
    session = db.session()
    if session.in_transaction():
        if session.connection().info.get(_WRITER_INFO):
            return
        # Something already read (the logged-in user, a test's own query): end that read-only
        # transaction first. One that wrote must never be committed half-way from here.
        if session.new or session.dirty or session.deleted or session.info.get("flushed"):
            raise RuntimeError("begin_write() must come before the request's first write")
        session.commit()
    db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@sa.event.listens_for(Session, "after_flush")
def _remember_flush(session, _context):
    session.info["flushed"] = True


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_flush(session, transaction):
    if transaction.parent is None:
        session.info.pop("flushed", None)


def autocommit_connection():
    """A connection where every statement commits by itself: for one-statement writes in a hot
    loop (the dispatcher's outcomes), without a BEGIN and a COMMIT around each."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def writer_transactions():
    """Within this block every transaction on SQLite starts as a writer (BEGIN IMMEDIATE).

    For jobs that alternate short reads and writes (the dispatcher, the tick) while other
    processes write too. Keep the transactions short: each holds SQLite's write lock.
    """
    token = _sqlite_writer.set(True)
    try:
        yield
    finally:
        _sqlite_writer.reset(token)


# ------------------------------------------------------------------ requests that write

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# GET routes that write. None does today: each GET route was probed on SQLite while the route
# tests ran (a write in a GET request that had not taken the lock was recorded). A GET route that
# starts writing (a sign-in link that records its use, a download counter) is listed here.
WRITING_GET_ENDPOINTS: frozenset[str] = frozenset()
# Routes that work for seconds before they write and take the write lock themselves, later
# (``begin_write``): holding SQLite's one write lock through image processing would make every
# other writer of the site wait, or give up after the busy timeout.
# Log-in checks a password hash (about 0.1 s) before it writes the login time: holding the lock
# through it would let anyone stall every writer by posting log-ins.
SELF_LOCKING_ENDPOINTS = frozenset({"galleries_admin.upload", "accounts.login"})
# POST routes that never write, and are slow: a gallery's password form checks a password hash
# (about 0.1 s) and only remembers the unlocked gallery in the cookie. Holding the write lock
# through it would let anyone stall every writer of the site by posting passwords.
READ_ONLY_ENDPOINTS = frozenset({"galleries_public.gallery"})
_TOKEN = "_sqlite_writer_token"


def init_app(app):
    """On SQLite, requests that may write are writers from their first query; a transaction
    still refused after the busy timeout answers 503 "busy" instead of a 500."""
    # First of the app's hooks: another hook's query (a session check) is then a writer's too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_writer_request)
    app.teardown_request(_end_writer_request)
    app.register_error_handler(sa.exc.OperationalError, _database_busy)


def request_may_write(method, endpoint):
    """Whether a request to ``endpoint`` should take SQLite's write lock before its first query."""
    if endpoint in SELF_LOCKING_ENDPOINTS or endpoint in READ_ONLY_ENDPOINTS:
        return False
    return method in _WRITE_METHODS or endpoint in WRITING_GET_ENDPOINTS


def _start_writer_request():
    """Make every transaction of this request BEGIN IMMEDIATE (SQLite only), this one at once.

    Not just the first: a route that commits, then writes again (it queues mail, commits, then
    ``send_now`` dispatches) would otherwise read then write in a deferred transaction and could fail.
    """
    if not request_may_write(request.method, request.endpoint):
        return
    if db.session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL locks rows as they are updated
    # Read the body first (within the route's size limit): a slow client must not hold the lock.
    request.form  # noqa: B018
    g.setdefault(_TOKEN, _sqlite_writer.set(True))
    session = db.session()
    if session.in_transaction():
        # Only a test's own work can be open here (tests share one app context, hence one
        # session, with their requests): the request would see it anyway.
        session.commit()
    begin_write()


def _end_writer_request(_error=None):
    """Release the write lock as soon as the request is over (the app context's teardown would
    roll back too, but tests keep theirs open across requests)."""
    token = g.pop(_TOKEN, None)
    if token is None:
        return
    try:
        _sqlite_writer.reset(token)
    except ValueError:  # the token came from another context: just stop being a writer
        _sqlite_writer.set(False)
    db.session.rollback()


def is_database_busy(error):
    """Whether ``error`` is SQLite refusing a lock ("database is locked", "database table is
    locked") after its busy timeout."""
    return "is locked" in str(getattr(error, "orig", error))


def _database_busy(error):
    """A transaction that could not get SQLite's lock within the busy timeout: ask the visitor
    to try again (503 with Retry-After) instead of failing with a 500. Other database errors
    are left to Flask's usual 500 handling."""
    if not is_database_busy(error):
        raise error
    current_app.logger.warning("Database busy on %s %s: %s", request.method, request.path, error)
    _end_writer_request()  # the page below only reads, as a reader: it must not wait again
    db.session.rollback()
    message = _("The site is busy, please try again in a few seconds.")
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        response = jsonify(error=message, results=[{"ok": False, "filename": "", "message": message}])
    else:
        response = current_app.make_response(render_template("errors/busy.html", message=message))
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def get_owned_or_404(model, object_id, studio_id):
    """Fetch a row that belongs to ``studio_id`` or answer 404 (never 403: ids do not leak).

    ``model`` needs a ``studio_id`` column, or a ``gallery`` relationship through which the
    studio is reached (photos, access cards).
    """
    row = db.session.get(model, object_id)
    if row is None or owner_studio_id(row) != studio_id:
        abort(404)
    return row


def owner_studio_id(row):
    if hasattr(row, "studio_id"):
        return row.studio_id
    return row.gallery.studio_id


def among(column, values):
    """``column IN (values)`` with one bound parameter however many values there are: an array
    on PostgreSQL (``= ANY``), a JSON list on SQLite (``json_each``). An expanding ``IN``
    renders, casts and parses one placeholder per value: reading 10,000 clients by id cost a
    tick 0.3 s on PostgreSQL in chunks of 500. Integer or text values."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    listed = sa.func.json_each(sa.bindparam(None, json.dumps(values), type_=sa.String))
    return column.in_(sa.select(sa.column("value")).select_from(listed))


def insert_ignoring_conflicts(table, dialect=None):
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike (for ``dialect``, or
    the session's)."""
    name = (dialect or db.session.get_bind().dialect).name
    module = postgresql if name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def insert_many_ignoring_conflicts(rows, table, columns=None):
    """INSERT ... ON CONFLICT DO NOTHING of many ``rows`` (dicts with the same keys, or tuples
    in ``columns`` order) in one executemany; returns how many were inserted.

    ``session.execute(insert, rows)`` makes SQLAlchemy build and process a parameter dict per
    row in Python: for 10,000 outbox rows that cost 0.3-0.4 s on SQLite, twice what SQLite took
    to write them. Here the statement is compiled once and each value goes only through its
    column type's own bind processor, where the type has one. Columns left out must have no
    Python-side default (it would not be applied): the call fails instead.
    """
    rows = list(rows)
    if not rows:
        return 0
    connection = db.session.connection()
    insert = _compiled_insert(table, tuple(columns or rows[0]), connection.dialect)
    parameters = insert.parameters_maker()
    result = connection.exec_driver_sql(insert.statement, [parameters(row) for row in rows])
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)


class _CompiledInsert:
    """An insert of given columns compiled for one dialect, and how a row becomes its
    parameters: in the statement's order, each through its type's bind processor."""

    def __init__(self, table, columns, dialect):
        missing = [
            column.name
            for column in table.columns
            if column.name not in columns and column.default is not None
        ]
        if missing:
            raise ValueError(f"{table.name}: give {', '.join(missing)} (Python-side defaults)")
        compiled = (
            insert_ignoring_conflicts(table, dialect)
            .values({name: sa.bindparam(name) for name in columns})
            .compile(dialect=dialect)
        )
        self.statement = compiled.string
        order = compiled.positiontup if dialect.positional else columns
        self.names = None if dialect.positional else tuple(order)
        self.processors = tuple(
            (index, process)
            for index, process in (
                (index, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                for index, name in enumerate(order)
            )
            if process is not None
        )
        self.keys = tuple(order)  # a dict row's keys, in the statement's order
        self.positions = tuple(columns.index(name) for name in order)  # a tuple row's

    def parameters_maker(self):
        """A function from a row to its parameters. It remembers each processor's last value
        and result: the rows of one insert often share a value (a tick's ``now`` in two
        columns of 10,000 rows), and a timestamp's processing costs 5 us."""
        keys, positions, names, processors = self.keys, self.positions, self.names, self.processors
        last = [(None, None)] * len(keys)

        def parameters(row):
            if isinstance(row, dict):
                values = [row[key] for key in keys]
            else:
                values = [row[position] for position in positions]
            for index, process in processors:
                value = values[index]
                seen, processed = last[index]
                if value is not seen or seen is None:
                    processed = process(value)
                    last[index] = (value, processed)
                values[index] = processed
            return tuple(values) if names is None else dict(zip(names, values))

        return parameters


@lru_cache(maxsize=64)
def _compiled_insert(table, columns, dialect):
    return _CompiledInsert(table, columns, dialect)


def refresh_planner_statistics():
    """Let SQLite's query planner know the tables' sizes (``ANALYZE``, sampled so it takes
    milliseconds at any size). Without statistics it starts the tick's range queries from the
    wrong table: at 10,000 galleries each then reads them all (5 ms instead of 0.2 ms).
    PostgreSQL's autovacuum keeps its own statistics; nothing to do there."""
    if db.session.get_bind().dialect.name != "sqlite":
        return
    db.session.execute(sa.text("PRAGMA analysis_limit=400"))
    db.session.execute(sa.text("ANALYZE"))
