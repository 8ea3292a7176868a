"""Generations: one output of one contender for one prompt (text, or a media file path)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select

from studio.records import GenerationIn, GenerationRecord
from studio.store.schema import Contender, Generation, Prompt, utcnow
from studio.store.sql import Repo, chunked, insert_ignoring, to_record


class GenerationRepo(Repo):
    def add(self, generations: Sequence[GenerationIn]) -> list[int]:
        """Insert generations; an identical output (same prompt, contender and content)
        is stored once and its id returned again."""
        if not generations:
            return []
        revisions = dict(self.session.execute(
            select(Contender.id, Contender.revision)
            .where(Contender.id.in_({g.contender_id for g in generations}))).all())
        now = utcnow()
        rows = [{"prompt_id": g.prompt_id, "contender_id": g.contender_id,
                 "contender_revision": revisions.get(g.contender_id, 1), "text": g.text,
                 "media_path": g.media_path, "content_sha256": g.digest(), "seed": g.seed,
                 "params": g.params, "latency_ms": g.latency_ms, "source": g.source,
                 "created_at": now} for g in generations]
        statement = insert_ignoring(self.session, Generation.__table__,
                                    ["prompt_id", "contender_id", "content_sha256"])
        for part in chunked(rows, 2000):
            self.session.execute(statement, list(part))
        keys = [(r["prompt_id"], r["contender_id"], r["content_sha256"]) for r in rows]
        ids = self._ids_for(keys)
        return [ids[key] for key in keys]

    def _ids_for(self, keys: list[tuple[int, int, str]]) -> dict[tuple[int, int, str], int]:
        found: dict[tuple[int, int, str], int] = {}
        for part in chunked(sorted(set(keys)), 5000):
            digests = {k[2] for k in part}
            rows = self.session.execute(
                select(Generation.prompt_id, Generation.contender_id, Generation.content_sha256,
                       Generation.id).where(Generation.content_sha256.in_(digests)))
            found.update({(p, c, d): i for p, c, d, i in rows})
        return found

    def get(self, generation_id: int) -> GenerationRecord | None:
        row = self.session.get(Generation, generation_id)
        return to_record(GenerationRecord, row) if row else None

    def many(self, ids: Sequence[int]) -> dict[int, GenerationRecord]:
        found: dict[int, GenerationRecord] = {}
        for part in chunked(sorted(set(ids)), 5000):
            for row in self.session.scalars(select(Generation).where(Generation.id.in_(part))):
                found[row.id] = to_record(GenerationRecord, row)
        return found

    def for_prompt(self, prompt_id: int, contender_id: int | None = None) -> list[GenerationRecord]:
        query = select(Generation).where(Generation.prompt_id == prompt_id).order_by(Generation.id)
        if contender_id is not None:
            query = query.where(Generation.contender_id == contender_id)
        return [to_record(GenerationRecord, g) for g in self.session.scalars(query)]

    def text_outputs(self, *, batch: int = 5000) -> Iterator[tuple[str, str, str]]:
        """(prompt text, output text, content hash) of every text output, oldest first, read
        `batch` rows at a time."""
        last = 0
        while True:
            rows = self.session.execute(
                select(Generation.id, Prompt.text, Generation.text, Generation.content_sha256)
                .join(Prompt, Prompt.id == Generation.prompt_id)
                .where(Generation.id > last, Generation.text.is_not(None))
                .order_by(Generation.id).limit(batch)).all()
            if not rows:
                return
            yield from ((prompt, text, digest) for _, prompt, text, digest in rows)
            last = rows[-1][0]
