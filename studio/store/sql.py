"""Small SQL helpers shared by the repositories (dialect-aware upserts, row mapping)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignoring(session: Session, table: Table, conflict_columns: Sequence[str]):
    """INSERT ... ON CONFLICT (cols) DO NOTHING, for SQLite and PostgreSQL alike."""
    module = postgresql if dialect(session) == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


def upsert(session: Session, table: Table, conflict_columns: Sequence[str], *, update_columns: Sequence[str]):
    """INSERT ... ON CONFLICT (cols) DO UPDATE SET the given columns from the new row."""
    module = postgresql if dialect(session) == "postgresql" else sqlite
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
