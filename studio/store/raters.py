"""Raters: people (and importers' judges) who cast votes."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from studio.records import RaterRecord
from studio.store.schema import ROLES, Rater, utcnow
from studio.store.sql import Repo, chunked, insert_ignoring, to_record


class RaterRepo(Repo):
    def ensure(self, name: str, role: str | None = None) -> RaterRecord:
        """The rater with this name, created on first sight; `role` updates it when given."""
        if role is not None and role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        self.session.execute(insert_ignoring(self.session, Rater.__table__, ["name"])
                             .values(name=name, role=role or "rater", created_at=utcnow()))
        rater = self.session.scalars(select(Rater).where(Rater.name == name)).one()
        if role is not None and rater.role != role:
            rater.role = role
            self.session.flush()
        return to_record(RaterRecord, rater)

    def id_for(self, name: str) -> int:
        """The id of the rater with this name, created on first sight (one statement when
        the rater exists, the common case on the vote path)."""
        found = self.connection.execute(_ID_BY_NAME, {"name": name}).scalar_one_or_none()
        return found if found is not None else self.ensure(name).id

    def ids_by_name(self, names: list[str]) -> dict[str, int]:
        """Ids for many names at once, creating the missing raters."""
        unique = sorted(set(names))
        if unique:
            now = utcnow()
            self.session.execute(insert_ignoring(self.session, Rater.__table__, ["name"]),
                                 [{"name": n, "role": "rater", "created_at": now} for n in unique])
        found: dict[str, int] = {}
        for part in chunked(unique, 5000):
            rows = self.session.execute(select(Rater.name, Rater.id).where(Rater.name.in_(part)))
            found.update(rows.all())
        return found

    def get(self, name: str) -> RaterRecord | None:
        rater = self.session.scalars(select(Rater).where(Rater.name == name)).one_or_none()
        return to_record(RaterRecord, rater) if rater else None

    def all(self) -> list[RaterRecord]:
        return [to_record(RaterRecord, r) for r in self.session.scalars(select(Rater).order_by(Rater.id))]



_ID_BY_NAME = select(Rater.__table__.c.id).where(Rater.__table__.c.name == bindparam("name"))
