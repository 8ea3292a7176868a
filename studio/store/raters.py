"""Raters: people (and importers' judges) who cast votes."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, func, select

from studio.records import RaterRecord
from studio.store.counted import WHOLE_RATER
from studio.store.schema import ROLES, Comparison, Rater, RaterExclusion, utcnow
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


    # -- exclusions: the votes stay, counted nowhere (store/counted.py) --------------------

    def exclude(self, rater_id: int, session_id: str | None = None, reason: str = "") -> bool:
        """Leave the rater's votes (or one session's) out; False when already excluded."""
        added = self.session.execute(
            insert_ignoring(self.session, RaterExclusion.__table__, ["rater_id", "session_id"])
            .values(rater_id=rater_id, session_id=session_id or WHOLE_RATER, reason=reason, created_at=utcnow())
            .returning(RaterExclusion.__table__.c.id)).scalar_one_or_none()
        return added is not None

    def include(self, rater_id: int, session_id: str | None = None) -> bool:
        """Count them again; False when there was no such exclusion."""
        result = self.session.execute(delete(RaterExclusion).where(
            RaterExclusion.rater_id == rater_id, RaterExclusion.session_id == (session_id or WHOLE_RATER)))
        return bool(result.rowcount)

    def exclusions(self) -> list[tuple[str, str | None, str]]:
        """(rater name, session id or None for the whole rater, reason) of every exclusion."""
        rows = self.session.execute(select(Rater.name, RaterExclusion.session_id, RaterExclusion.reason)
                                    .join(Rater, Rater.id == RaterExclusion.rater_id).order_by(RaterExclusion.id))
        return [(name, session or None, reason) for name, session, reason in rows]

    def has_session(self, rater_id: int, session_id: str) -> bool:
        """Whether the rater cast any vote in this session."""
        return bool(self.session.scalar(select(func.count()).select_from(Comparison).where(
            Comparison.rater_id == rater_id, Comparison.session_id == session_id)))


_ID_BY_NAME = select(Rater.__table__.c.id).where(Rater.__table__.c.name == bindparam("name"))
