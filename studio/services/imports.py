"""Importing outputs and judgements made elsewhere: each file is parsed whole first (a bad
line stops it with `file:line: what is wrong`), then written in one transaction, all or
nothing. Images named in the file are copied into the artifact store by content hash before
the transaction and removed again if it fails. Everything is stored once per content, so
importing the same file again adds nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from studio.artifacts import ArtifactStore
from studio.config import StudioConfig
from studio.errors import InputError
from studio.exchange.generations import ImportedGeneration, pairs_to_rate, read_generation_file
from studio.exchange.media import MAX_MEDIA_BYTES, MediaFile
from studio.exchange.prefs import read_prefs_file
from studio.exchange.votes import ImportedVote, read_vote_file
from studio.records import TEXTLESS_SHA256, GenerationIn, PromptIn, VoteIn
from studio.services.catalog import ImportSummary
from studio.store import Store


@dataclass(frozen=True)
class GenerationImportSummary(ImportSummary):
    items: int = 0          # new pairs for raters


class Imports:
    def __init__(self, store: Store, config: StudioConfig, artifacts: ArtifactStore):
        self.store = store
        self.config = config
        self.artifacts = artifacts

    def import_votes(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                     progress: bool | None = None) -> ImportSummary:
        """Import human votes in the `elo_*.jsonl` format, or a studio `jsonl` export:
        contenders from model names, raters from judges, generations from the response
        texts (stored once per prompt and contender). Re-importing the same file adds nothing."""
        votes = read_vote_file(path, progress=progress)
        stored: list[str] = []
        try:
            for key, media in sorted(_images(votes).items()):
                if self._store(media):
                    stored.append(key)
            added = self.write_imported_votes(votes, source=f"import:{Path(path).name}",
                                              prompt_set=_set_name(prompt_set, path))
        except BaseException:
            self.artifacts.remove(stored)     # the files this import added, nothing else
            raise
        return ImportSummary(source=os.fspath(path), read=len(votes), added=added)

    def import_prefs(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                     progress: bool | None = None) -> ImportSummary:
        """Import preference pairs: TRL `prompt`/`chosen`/`rejected` (text or conversational),
        Anthropic HH `chosen`/`rejected` dialogues, or the `elo_*.jsonl` vote format. Each
        pair becomes one vote. Re-importing the same file adds nothing."""
        votes = read_prefs_file(path, progress=progress)
        added = self.write_imported_votes(votes, source=f"import:{Path(path).name}",
                                          prompt_set=_set_name(prompt_set, path))
        return ImportSummary(source=os.fspath(path), read=len(votes), added=added)

    def write_imported_votes(self, votes: Sequence[ImportedVote], *, source: str, prompt_set: str) -> int:
        """Write parsed votes in one transaction; returns how many were new."""
        def set_of(vote: ImportedVote) -> str:
            return vote.prompt_set or prompt_set

        prompts = sorted({(set_of(v), v.prompt) for v in votes})
        systems = {(set_of(v), v.prompt): v.system_prompt for v in votes if v.system_prompt}
        kinds = _output_kinds(votes)
        images = _images(votes)
        with self.store.transaction() as tx:
            prompt_ids, contender_ids = _prompts_and_contenders(tx, prompts, systems, kinds, source, "these votes")
            outputs = sorted({(set_of(v), v.prompt, *v.output(side), v.textless)
                              for v in votes for side in ("left", "right")})
            generation_ids = dict(zip(outputs, tx.generations.add(
                [_generation(prompt_ids[(s, p)], contender_ids[m], content, kinds[m] == "image", images, source,
                             textless=textless)
                 for s, p, m, content, textless in outputs]), strict=True))
            return tx.votes.record_many([
                VoteIn(left_generation_id=generation_ids[(set_of(v), v.prompt, *v.output("left"), v.textless)],
                       right_generation_id=generation_ids[(set_of(v), v.prompt, *v.output("right"), v.textless)],
                       outcome=v.outcome, rater=v.rater, idempotency_key=v.key, rationale=v.rationale,
                       decision_ms=v.decision_ms, session_id=v.session_id, group_id=v.group_id,
                       created_at=v.created_at, source=source)
                for v in votes])

    def import_generations(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                           items: bool = True, progress: bool | None = None) -> GenerationImportSummary:
        """Import outputs generated elsewhere (text, or images next to the file) for raters to
        judge; their contenders are added as external ones. With `items`, every two outputs
        of a prompt from different contenders become a pair for the arena. Re-importing
        adds nothing."""
        outputs = read_generation_file(path, progress=progress)
        source = f"import:{Path(path).name}"
        default_set = _set_name(prompt_set, path)
        stored: list[str] = []
        try:
            for output in outputs:
                if output.media is not None and self._store(output.media):
                    stored.append(output.media.key)
            added, made = self._write_generations(outputs, source=source, prompt_set=default_set, items=items)
        except BaseException:
            self.artifacts.remove(stored)     # the files this import added, nothing else
            raise
        return GenerationImportSummary(source=os.fspath(path), read=len(outputs), added=added, items=made)

    def _store(self, media: MediaFile) -> bool:
        """Copy a checked image into the artifact store; False when it was there already."""
        return self.artifacts.put_file(media.key, media.source, sha256=media.sha256, max_bytes=MAX_MEDIA_BYTES)

    def _write_generations(self, outputs: Sequence[ImportedGeneration], *, source: str, prompt_set: str,
                           items: bool) -> tuple[int, int]:
        def key(output: ImportedGeneration) -> tuple[str, str]:
            return output.prompt_set or prompt_set, output.prompt

        prompts = sorted({key(o) for o in outputs})
        systems = {key(o): o.system_prompt for o in outputs if o.system_prompt}
        kinds = {o.contender: o.kind for o in outputs}
        started = datetime.now(UTC)
        with self.store.transaction() as tx:
            prompt_ids, contender_ids = _prompts_and_contenders(tx, prompts, systems, kinds, source, "these outputs")
            ids = tx.generations.add([
                GenerationIn(prompt_id=prompt_ids[key(o)], contender_id=contender_ids[o.contender], text=o.text,
                             media_path=o.media.key if o.media else None,
                             content_sha256=o.media.sha256 if o.media else None, seed=o.seed,
                             params=o.params, latency_ms=o.latency_ms, source=source)
                for o in outputs])
            records = tx.generations.many(ids)
            made = self._make_items(tx, outputs, ids, prompt_ids, key) if items else 0
        return sum(1 for r in records.values() if _utc(r.created_at) >= started), made

    def _make_items(self, tx, outputs, ids, prompt_ids, key) -> int:
        """Pair items for the arena from the imported outputs, once per pair."""
        by_prompt: dict[int, list[tuple[int, str, str]]] = {}
        for output, generation_id in zip(outputs, ids, strict=True):
            by_prompt.setdefault(prompt_ids[key(output)], []).append((generation_id, output.contender, output.kind))
        already = {frozenset(item.generation_ids) for item in tx.items.for_prompts(list(by_prompt))
                   if item.shape == "pair"}
        sets = {prompt_ids[key(o)]: key(o)[0] for o in outputs}
        pairs = pairs_to_rate(by_prompt, already)
        for prompt_id, order in pairs:
            tx.items.create(prompt_id, order, prompt_set=sets[prompt_id],
                            votes_wanted=self.config.pool.votes_per_pair, source="import")
        return len(pairs)


def _images(votes: Sequence[ImportedVote]) -> dict[str, MediaFile]:
    """The image files of these votes, by their artifact key."""
    return {m.key: m for v in votes for m in (v.left_media, v.right_media) if m is not None}


def _output_kinds(votes: Sequence[ImportedVote]) -> dict[str, str]:
    """Each contender's kind of output in these votes; one contender cannot make both."""
    kinds: dict[str, str] = {}
    for vote in votes:
        for model, media in ((vote.left_model, vote.left_media), (vote.right_model, vote.right_media)):
            kind = "text" if media is None else "image"
            if kinds.setdefault(model, kind) != kind:
                raise InputError(f"line {vote.line}: contender '{model}' has both text and image outputs in this "
                                 "file; give the image contender another name")
    return kinds


def _generation(prompt_id: int, contender_id: int, content: str, image: bool, images: dict,
                source: str, *, textless: bool = False) -> GenerationIn:
    if textless:      # a side of a battle log: the model is known, its response is not
        return GenerationIn(prompt_id=prompt_id, contender_id=contender_id, text="",
                            content_sha256=TEXTLESS_SHA256, source=source)
    if not image:
        return GenerationIn(prompt_id=prompt_id, contender_id=contender_id, text=content, source=source)
    media = images[content]
    return GenerationIn(prompt_id=prompt_id, contender_id=contender_id, text=None, media_path=media.key,
                        content_sha256=media.sha256, source=source)


def _prompts_and_contenders(tx, prompts: list[tuple[str, str]], systems: dict, kinds: dict[str, str], source: str,
                            what: str) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Store the (prompt set, text) prompts and the external contenders of an import; their ids."""
    _check_kinds(tx, kinds, what=what)
    prompt_ids = dict(zip(prompts, tx.prompts.add(
        [PromptIn(text=p, prompt_set=s, system_prompt=systems.get((s, p)), source=source) for s, p in prompts]),
        strict=True))
    contender_ids: dict[str, int] = {}
    for kind in ("text", "image"):
        names = sorted(name for name, k in kinds.items() if k == kind)
        if names:
            contender_ids.update(tx.contenders.ensure_external(names, kind=kind))
    return prompt_ids, contender_ids


def _check_kinds(tx, kinds: dict[str, str], *, what: str) -> None:
    """Refuse outputs of one kind for a contender that makes the other (text vs image)."""
    for name, kind in sorted(kinds.items()):
        existing = tx.contenders.get(name)
        if existing is not None and existing.kind != kind:
            raise InputError(f"contender '{name}' makes {existing.kind} outputs; {what} give it {kind} ones: "
                             "rename the contender in the file")


def _set_name(prompt_set: str | None, path: str | os.PathLike[str]) -> str:
    """The prompt set to import into: the one given, or the file's name."""
    if prompt_set is None:
        return Path(path).stem[:200] or "default"
    if not prompt_set.strip() or len(prompt_set) > 200 or "\x00" in prompt_set:
        raise InputError("a prompt set name is 1 to 200 characters")
    return prompt_set


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
