"""Prompts, unique by (prompt set, text): adding the same prompt twice returns the first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from studio.records import PromptIn, PromptRecord, sha256_text
from studio.store.schema import Prompt, utcnow
from studio.store.sql import Repo, chunked, insert_ignoring, to_record


class PromptRepo(Repo):
    def add(self, prompts: Sequence[PromptIn]) -> list[int]:
        """Insert the prompts not already present; return every prompt's id, in order."""
        keys = [(p.prompt_set, sha256_text(p.text)) for p in prompts]
        now = utcnow()
        rows = [{"text": p.text, "text_sha256": digest, "prompt_set": p.prompt_set,
                 "system_prompt": p.system_prompt, "meta": p.meta, "source": p.source,
                 "created_at": now} for p, (_, digest) in zip(prompts, keys, strict=True)]
        statement = insert_ignoring(self.session, Prompt.__table__, ["prompt_set", "text_sha256"])
        for part in chunked(rows, 2000):
            self.session.execute(statement, list(part))
        ids = self.ids_for(keys)
        return [ids[key] for key in keys]

    def ids_for(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        by_set: dict[str, list[str]] = {}
        for prompt_set, digest in set(keys):
            by_set.setdefault(prompt_set, []).append(digest)
        for prompt_set, digests in by_set.items():
            for part in chunked(digests, 5000):
                rows = self.session.execute(
                    select(Prompt.text_sha256, Prompt.id)
                    .where(Prompt.prompt_set == prompt_set, Prompt.text_sha256.in_(part)))
                found.update({(prompt_set, d): i for d, i in rows})
        return found

    def get(self, prompt_id: int) -> PromptRecord | None:
        prompt = self.session.get(Prompt, prompt_id)
        return to_record(PromptRecord, prompt) if prompt else None

    def list(self, prompt_set: str | None = None, limit: int | None = None) -> list[PromptRecord]:
        query = select(Prompt).order_by(Prompt.id)
        if prompt_set is not None:
            query = query.where(Prompt.prompt_set == prompt_set)
        if limit is not None:
            query = query.limit(limit)
        return [to_record(PromptRecord, p) for p in self.session.scalars(query)]

    def sets(self) -> dict[str, int]:
        """Prompt sets and how many prompts each holds."""
        rows = self.session.execute(
            select(Prompt.prompt_set, func.count()).group_by(Prompt.prompt_set).order_by(Prompt.prompt_set))
        return dict(rows.all())
