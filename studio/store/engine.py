"""Engines for SQLite (the default) and PostgreSQL (by URL), set up for safe concurrent use.

SQLite runs in WAL mode (readers never block the writer, nor the writer the readers), with
foreign keys on, a busy timeout, and `synchronous=FULL` by default: a commit is fsynced to
the WAL before the vote is acknowledged, so it survives a killed process and a power cut.
(`NORMAL` would survive a killed process too, but not a power cut; see docs/architecture.md.)

Write transactions on SQLite start with `BEGIN IMMEDIATE`: the write lock is taken at the
start, so two writers queue on the busy timeout instead of one failing with "database is
locked" when it tries to upgrade a read transaction to a write.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from studio.errors import ConfigError

BUSY_TIMEOUT_MS = 30_000
IMMEDIATE = "studio_immediate"


CACHE_KIB = 64 * 1024


def make_engine(url: str, *, synchronous: str = "FULL") -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"not a database URL: {url!r} (expected sqlite:///PATH or postgresql://...)") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database, synchronous.upper())
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=40)
    raise ConfigError(f"unsupported database {backend!r} in {url!r}: use sqlite:///PATH or postgresql://...")


def _sqlite_engine(url: str, database: str | None, synchronous: str) -> Engine:
    if not database or database == ":memory:":
        raise ConfigError("an in-memory SQLite database loses every vote on exit: give a file path")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Pooled connections may move between threads (one session uses one at a time);
    # writers still serialise on SQLite's lock, readers run in parallel under WAL.
    engine = create_engine(url, pool_size=8, max_overflow=56,
                           connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # A 64 MB page cache (SQLite's default is 2 MB): exports and notebooks read the whole
        # comparisons table. (A memory map read faster still, but its pages count as the
        # process's memory: a 1M-vote export of a 326 MB database peaked at 491 MB with one.)
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{IMMEDIATE: True})
