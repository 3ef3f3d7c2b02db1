"""Flask extensions, created unbound and attached in ``create_app`` with ``init_app``."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL and a busy timeout, and take control of transactions from pysqlite.

    pysqlite's own BEGIN is deferred: a transaction that reads and then writes can fail with
    "database is locked" halfway when another connection wrote in between. We emit
    BEGIN IMMEDIATE ourselves (below), so the write lock is taken before the first read —
    except for requests that only read.
    """
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Set while serving a GET or HEAD: those transactions only read, so they begin DEFERRED and, in
# WAL mode, never wait for (or hold up) a writer. Everything else begins IMMEDIATE.
sqlite_reads_only: ContextVar[bool] = ContextVar("sqlite_reads_only", default=False)


@contextmanager
def writing():
    """A write inside a GET request: ends the session's read transaction so the next one begins
    IMMEDIATE (a DEFERRED reader that writes can fail with "database is locked")."""
    db.session.commit()
    token = sqlite_reads_only.set(False)
    try:
        yield
    finally:
        sqlite_reads_only.reset(token)


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN" if sqlite_reads_only.get() else "BEGIN IMMEDIATE")
