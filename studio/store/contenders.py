"""Contenders: a model plus generation settings. Changing the settings bumps the revision."""

from __future__ import annotations

from sqlalchemy import select

from studio.contender_spec import ContenderSpec
from studio.records import ContenderRecord
from studio.store.schema import Contender
from studio.store.sql import Repo, to_record


class ContenderRepo(Repo):
    def upsert(self, spec: ContenderSpec) -> ContenderRecord:
        """Create the contender, or update it in place when its settings changed."""
        row = self.session.scalars(select(Contender).where(Contender.name == spec.name)).one_or_none()
        if row is None:
            row = Contender(name=spec.name, kind=spec.kind, backend=spec.backend, model=spec.model,
                            params=dict(spec.params), revision=1, enabled=True)
            self.session.add(row)
        elif (row.kind, row.backend, row.model, row.params) != (spec.kind, spec.backend, spec.model, spec.params):
            row.kind, row.backend, row.model = spec.kind, spec.backend, spec.model
            row.params = dict(spec.params)
            row.revision += 1
        self.session.flush()
        return to_record(ContenderRecord, row)

    def ensure_external(self, names: list[str], kind: str = "text") -> dict[str, int]:
        """Ids for contenders known only by name (outputs imported from elsewhere)."""
        rows = dict(self.session.execute(
            select(Contender.name, Contender.id).where(Contender.name.in_(set(names)))).all())
        for name in sorted(set(names) - set(rows)):
            row = Contender(name=name, kind=kind, backend="external", model="", params={})
            self.session.add(row)
            self.session.flush()
            rows[name] = row.id
        return rows

    def get(self, name: str) -> ContenderRecord | None:
        row = self.session.scalars(select(Contender).where(Contender.name == name)).one_or_none()
        return to_record(ContenderRecord, row) if row else None

    def by_id(self, contender_id: int) -> ContenderRecord | None:
        row = self.session.get(Contender, contender_id)
        return to_record(ContenderRecord, row) if row else None

    def list(self, kind: str | None = None, enabled_only: bool = False) -> list[ContenderRecord]:
        query = select(Contender).order_by(Contender.id)
        if kind is not None:
            query = query.where(Contender.kind == kind)
        if enabled_only:
            query = query.where(Contender.enabled.is_(True))
        return [to_record(ContenderRecord, c) for c in self.session.scalars(query)]

    def set_enabled(self, name: str, enabled: bool) -> None:
        row = self.session.scalars(select(Contender).where(Contender.name == name)).one()
        row.enabled = enabled

    def register_version(self, spec: ContenderSpec, *, parent_id: int, version: int,
                         lineage: dict) -> ContenderRecord:
        """A new improved version (`NAME@v2`, ...) of a contender, enabled at once."""
        row = Contender(name=spec.name, kind=spec.kind, backend=spec.backend, model=spec.model,
                        params=dict(spec.params), revision=1, enabled=True, parent_id=parent_id,
                        version=version, lineage=dict(lineage))
        self.session.add(row)
        self.session.flush()
        return to_record(ContenderRecord, row)

    def parents(self) -> dict[int, int]:
        """Enabled improved versions -> the contender each was trained from."""
        rows = self.session.execute(select(Contender.id, Contender.parent_id).where(
            Contender.parent_id.is_not(None), Contender.enabled.is_(True))).all()
        return {child: parent for child, parent in rows}
