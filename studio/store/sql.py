"""Small SQL helpers shared by the repositories (dialect-aware upserts, row mapping)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


class Repo:
    """A repository bound to one open transaction's session. Hot paths run prebuilt Core
    statements on `connection`, looked up once per transaction."""

    def __init__(self, session: Session):
        self.session = session
        self._connection = None
        self._dialect: str | None = None

    # Plain lazy attributes, not functools.cached_property: before Python 3.12 that holds one
    # lock for every instance while computing, and `session.connection()` may wait on
    # SQLite's write lock (BEGIN IMMEDIATE): a writer needing the same property would deadlock.
    @property
    def connection(self):
        if self._connection is None:
            self._connection = self.session.connection()
        return self._connection

    @property
    def dialect(self) -> str:
        if self._dialect is None:
            self._dialect = dialect(self.session)
        return self._dialect


def _module(session_or_dialect: Session | str):
    name = session_or_dialect if isinstance(session_or_dialect, str) else dialect(session_or_dialect)
    return postgresql if name == "postgresql" else sqlite


def insert_ignoring(session: Session | str, table: Table, conflict_columns: Sequence[str] | None):
    """INSERT ... ON CONFLICT (cols) DO NOTHING, for SQLite and PostgreSQL alike (for the
    session's database, or the dialect named); `None`: a conflict on any unique index."""
    columns = None if conflict_columns is None else list(conflict_columns)
    return _module(session).insert(table).on_conflict_do_nothing(index_elements=columns)


def upsert(session: Session | str, table: Table, conflict_columns: Sequence[str], *, update_columns: Sequence[str]):
    """INSERT ... ON CONFLICT (cols) DO UPDATE SET the given columns from the new row."""
    module = _module(session)
    statement = module.insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={name: statement.excluded[name] for name in update_columns})


def chunked(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def to_record(record_type, row) -> Any:
    """Build a frozen record from an ORM object, taking only the fields the record declares."""
    return record_type(**{name: getattr(row, name) for name in record_type.__dataclass_fields__})
