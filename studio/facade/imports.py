"""Importing judgements made elsewhere: each file is one transaction, all or nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from studio.exchange.votes import ImportedVote, read_vote_file
from studio.facade.core import ImportSummary
from studio.records import GenerationIn, PromptIn, VoteIn


class ImportsFacade:
    def import_votes(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                     progress: bool | None = None) -> ImportSummary:
        """Import human votes in the `elo_*.jsonl` format: contenders from model names,
        raters from judges, generations from the response texts (stored once per prompt
        and contender). Re-importing the same file adds nothing."""
        votes = read_vote_file(path, progress=progress)
        name = Path(path).name
        added = self.write_imported_votes(votes, source=f"import:{name}",
                                          prompt_set=prompt_set or Path(path).stem)
        return ImportSummary(source=os.fspath(path), read=len(votes), added=added)

    def write_imported_votes(self, votes: Sequence[ImportedVote], *, source: str, prompt_set: str) -> int:
        """Write parsed votes in one transaction; returns how many were new."""
        prompts = sorted({v.prompt for v in votes})
        models = sorted({v.left_model for v in votes} | {v.right_model for v in votes})
        with self.store.transaction() as tx:
            prompt_ids = dict(zip(prompts, tx.prompts.add(
                [PromptIn(text=p, prompt_set=prompt_set, source=source) for p in prompts]), strict=True))
            contender_ids = tx.contenders.ensure_external(models)
            outputs = sorted({(v.prompt, model, text) for v in votes
                              for model, text in ((v.left_model, v.left_text), (v.right_model, v.right_text))})
            generation_ids = dict(zip(outputs, tx.generations.add(
                [GenerationIn(prompt_id=prompt_ids[p], contender_id=contender_ids[m], text=t, source=source)
                 for p, m, t in outputs]), strict=True))
            return tx.votes.record_many([
                VoteIn(left_generation_id=generation_ids[(v.prompt, v.left_model, v.left_text)],
                       right_generation_id=generation_ids[(v.prompt, v.right_model, v.right_text)],
                       outcome=v.outcome, rater=v.rater, idempotency_key=v.key, rationale=v.rationale,
                       source=source)
                for v in votes])
