"""`Studio`: the one door the UI, the CLI and the notebooks use.

    from studio import Studio
    studio = Studio.open("studio-data")          # a data dir, or a database URL
    studio.add_prompts(["Write a haiku about rain."])
    studio.comparisons()                         # a pandas DataFrame

`Studio` is a thin composition: it builds the store and the services once, wires them
together (a new vote reaches the retrain policy), and hands each call to the service that
does it. The services are attributes too (`studio.training`, `studio.registry`, ...).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Self

import pandas as pd

from studio.api_models import StudioRewardModels
from studio.api_reads import StudioReads
from studio.artifacts import open_artifacts
from studio.config import StudioConfig, load_config
from studio.contender_spec import ContenderSpec
from studio.errors import InputError
from studio.records import ContenderRecord, GenerationIn, ItemView, PromptIn, VoteResult
from studio.services.catalog import Catalog, ImportSummary
from studio.services.exports import Exports
from studio.services.features import FeatureService
from studio.services.generation import GenerationService
from studio.services.generators import Generators
from studio.services.gold import GoldItems
from studio.services.imports import Imports
from studio.services.improvement import ImprovementService
from studio.services.improvement_request import ImproveRequest
from studio.services.insights import Insights
from studio.services.jobs import JobBoard
from studio.services.lift import LiftService
from studio.services.pair_choice import PairChooser
from studio.services.pool import PoolService
from studio.services.pool_jobs import PoolJobs
from studio.services.rankings import Rankings
from studio.services.raters import RaterReview
from studio.services.registry import Prediction, RewardRegistry
from studio.services.retrain import RetrainPolicy
from studio.services.training import TrainingService
from studio.services.voting import Voting
from studio.store import Store

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from studio.exchange.export import ExportSummary
    from studio.generation.base import Generator
    from studio.generation.pool import PoolStatus
    from studio.generation.streaming import FreePromptUpdate
    from studio.jobs import PoolWorker
    from studio.store.jobs import JobRecord

__all__ = ["ImportSummary", "Prediction", "Studio"]


class Studio(StudioReads, StudioRewardModels):
    """Open with `Studio.open(data_dir_or_url)`; see the README for each front door."""

    def __init__(self, config: StudioConfig):
        from studio.jobs import JobQueue, is_immediate

        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts = open_artifacts(config)      # reached now: a wrong URL fails here, not on a vote
        self.store = Store(config.database_url, synchronous=config.sqlite_synchronous)
        self._queue = JobQueue(config, SimpleNamespace(training=lambda: self.training, pool_jobs=lambda: self.pool_jobs,
                                                       improvement=lambda: self.improvement,
                                                       features=lambda: self.features))
        self.catalog = Catalog(self.store, config)
        self.registry = RewardRegistry(self.store, config, self.artifacts)
        self.job_board = JobBoard(self.store, self._queue)
        self.training = TrainingService(self.store, config, self.registry, self.job_board, self._queue)
        self.retrain = RetrainPolicy(self.training)
        self.features = FeatureService(self.store, config, self.registry, self.job_board, self._queue)
        self.generators = Generators(self.store, config, self.registry, self.artifacts)
        self.improvement = ImprovementService(self.store, config, self.registry, self.generators, self.artifacts,
                                              self.job_board, self._queue)
        self.lifts = LiftService(self.store, self.registry)
        self.generation = GenerationService(self.store, config, self.generators, self.artifacts)
        self.pair_choice = PairChooser(self.store, config, self.registry)   # its ensemble orders candidates
        self.pool = PoolService(self.store, config, self.generators, self.generation, self.pair_choice)
        self.pool_jobs = PoolJobs(self.store, config, self.pool, self.job_board, self._queue)
        if config.pool.on_workers and not is_immediate(config):    # top-ups: tasks for `studio worker --generate`
            self.pool.on_workers = lambda sets, wanted: self.pool_jobs.top_up(sets, min_ready=wanted)
        self.voting = Voting(self.store, config)
        self.voting.on_vote(self.retrain.after_vote)
        self.imports = Imports(self.store, config, self.artifacts)
        self.exports = Exports(self.store, config, self.artifacts)
        self.rankings = Rankings(self.store)
        self.rater_review = RaterReview(self.store)
        self.gold = GoldItems(self.store)
        self.insights = Insights(self.store, self.catalog, self.registry)
        self.catalog.sync_contenders(config.contenders)

    @classmethod
    def open(cls, target: str | os.PathLike[str] | None = None, *,
             data_dir: str | os.PathLike[str] | None = None, **overrides: Any) -> Self:
        """Open (creating if needed) the studio in a data dir, or on a database URL."""
        return cls(load_config(target, data_dir=data_dir, **overrides))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- prompts, contenders, generations --------------------------------------------------

    def add_prompts(self, prompts: Iterable[str | dict[str, Any] | PromptIn], *,
                    prompt_set: str = "default", source: str = "manual") -> list[int]:
        """Add prompts (texts, dicts with a `prompt` key, or `PromptIn`); returns their ids.
        A prompt already in the set is not added twice."""
        return self.catalog.add_prompts(prompts, prompt_set=prompt_set, source=source)

    def import_prompts(self, path: str | os.PathLike[str], *, prompt_set: str | None = None) -> ImportSummary:
        """Add every prompt of a .txt/.jsonl/.csv file in one transaction (all or nothing)."""
        return self.catalog.import_prompts(path, prompt_set=prompt_set)

    def prompt_sets(self) -> dict[str, int]:
        """Prompt set -> number of prompts."""
        return self.catalog.prompt_sets()

    def add_contender(self, spec: ContenderSpec | dict[str, Any]) -> ContenderRecord:
        """Register (or update) a contender in the database."""
        return self.catalog.add_contender(spec)

    def declare_contender(self, name: str, *, model: str, kind: str | None = None, backend: str | None = None,
                          params: dict[str, Any] | None = None) -> ContenderRecord:
        """Append a `[[contenders]]` table to the data dir's studio.toml (validated by the
        same code that reads it; the file is unchanged on error) and register it."""
        spec, record = self.catalog.declare_contender(name, model=model, kind=kind, backend=backend, params=params)
        self.config = self.config.replace(contenders=(*self.config.contenders, spec))
        return record

    def enable_contender(self, name: str, enabled: bool = True) -> ContenderRecord:
        """Enable (or, with enabled=False, disable) a contender for new outputs and pairs."""
        return self.catalog.set_contender_enabled(name, enabled)

    def edit_contender(self, name: str, params: dict[str, Any]) -> ContenderRecord:
        """Replace a contender's params (validated as in studio.toml; a new revision)."""
        return self.catalog.edit_contender(name, params)

    def contender(self, name: str) -> ContenderRecord:
        return self.catalog.contender(name)

    def add_generations(self, generations: Iterable[GenerationIn]) -> list[int]:
        return self.catalog.add_generations(generations)

    def generator(self, contender: str) -> Generator:
        """The contender's model, loaded once per studio and shared by contenders naming
        the same model. Raises `ModelLoadError` naming the contender and what to do."""
        return self.generators.get(contender)

    def generate(self, contender: str, prompts: Sequence[int] | None = None, *, prompt_set: str | None = None,
                 n_per_prompt: int = 1, seed: int | None = None,
                 progress: bool | Callable[[int, int], None] | None = None) -> list[int]:
        """Generate `n_per_prompt` outputs of `contender` for each prompt (ids, or every prompt
        of `prompt_set`, or every prompt) in batches; returns generation ids, prompt by prompt.
        Each output's seed (derived from `seed`, random when None), the settings and the
        latency are stored with it. Finished batches are kept if a later one fails."""
        return self.generation.generate(contender, prompts, prompt_set=prompt_set, n_per_prompt=n_per_prompt,
                                        seed=seed, progress=progress)

    def free_prompt(self, prompt: str, rater: str, *,
                    contenders: tuple[str, str] | None = None) -> Iterator[FreePromptUpdate]:
        """Answer a prompt the rater typed with two contenders at once, yielding both texts as
        they grow (sides already in display order). The last update carries the rating item,
        shown to this rater and voted on like any other pair."""
        return self.generation.free_prompt(prompt, rater, contenders=contenders)

    # -- the pool --------------------------------------------------------------------------

    def refill_pool(self, prompt_set: str | None = None, *, min_ready: int | None = None,
                    should_stop: Callable[[], bool] | None = None) -> int:
        """Top up every prompt set (or one) to at least `min_ready` (default: config
        `pool.min_ready`) items a rater could be handed now, generating what is missing in
        batches; left/right (or grid) order is randomised as each item is made. Contenders
        that fail to load are skipped and the reason recorded (see `pool_status`). Returns
        how many items were made."""
        return self.pool.refill(prompt_set, min_ready=min_ready, should_stop=should_stop)

    def pool_pace(self) -> dict[str, float | None]:
        """How fast the pool has been making pairs lately: `seconds_per_item` and
        `since_last_s` (None when it has made too few to tell)."""
        return self.pool.pace()

    def pool_status(self) -> PoolStatus:
        """Ready items per prompt set, and why any contender is left out of the pool."""
        return self.pool.status()

    def pool_worker(self, *, prompt_set: str | None = None, min_ready: int | None = None,
                    interval: float = 2.0, say=None) -> PoolWorker:
        """A background thread that keeps the pool topped up (not started: `.start()`);
        `say(line)` hears its warm-up progress."""
        from studio.jobs import PoolWorker

        return PoolWorker(self.pool, prompt_set=prompt_set, min_ready=min_ready, interval=interval, say=say)

    # -- votes -----------------------------------------------------------------------------

    def vote(self, item_id: int | None = None, *, outcome: str, rater: str,
             left: int | None = None, right: int | None = None, idempotency_key: str | None = None,
             rationale: str | None = None, decision_ms: int | None = None,
             session_id: str | None = None, group_id: str | None = None, source: str = "ui") -> VoteResult:
        """Record one vote on a rating item (or on two generations given as `left`/`right`).

        The vote is committed before this returns. Retrying with the same
        `idempotency_key` returns the first vote and writes nothing. A vote on an item
        counts only when the item was handed to this rater (`next_item`, a free prompt) and
        they have not voted on it yet: a second vote, whatever its key, writes nothing and
        returns the first with `duplicate=True`; an item never shown to them, or a key
        already used for another vote, raises ConflictError.
        """
        return self.voting.vote(item_id, outcome=outcome, rater=rater, left=left, right=right,
                                idempotency_key=idempotency_key, rationale=rationale, decision_ms=decision_ms,
                                session_id=session_id, group_id=group_id, source=source)

    def vote_and_next(self, item_id: int, *, outcome: str, rater: str, idempotency_key: str,
                      rationale: str | None = None, decision_ms: int | None = None,
                      session_id: str | None = None, prompt_set: str | None = None,
                      shape: str | None = "pair", kind: str | None = None) -> tuple[VoteResult, ItemView | None]:
        """`vote(item_id, ...)` then `next_item(rater, ...)`, committed together: the vote is
        durable when this returns, and the next item is already assigned to the rater.
        Retrying with the same `idempotency_key` writes nothing and returns the rater's
        open item again; the rules of `vote` apply, and when it is refused nothing is
        assigned either. (`kind` is the old name of `shape`.)"""
        return self.voting.vote_and_next(item_id, outcome=outcome, rater=rater, idempotency_key=idempotency_key,
                                         rationale=rationale, decision_ms=decision_ms, session_id=session_id,
                                         prompt_set=prompt_set, shape=kind or shape)

    def rank(self, item_id: int, order: list[int], *, rater: str, idempotency_key: str,
             decision_ms: int | None = None, session_id: str | None = None) -> list[VoteResult]:
        """Record a ranking of an item's outputs (generation ids, best first; listing only the
        best means best vs each of the rest) as the pairwise comparisons it implies, sharing
        one group id, in one transaction. Retrying with the same key writes nothing new;
        one ranking per rater per grid, as `vote` (a second returns the first, `duplicate`)."""
        return self.voting.rank(item_id, order, rater=rater, idempotency_key=idempotency_key,
                                decision_ms=decision_ms, session_id=session_id)

    def next_item(self, rater: str, *, prompt_set: str | None = None, shape: str | None = None,
                  kind: str | None = None) -> ItemView | None:
        """The next item for this rater (`shape` "pair" or "grid", or either), or None when
        nothing is ready. The same rater is never shown the same item twice; a reload shows
        their open item. (`kind` is the old name of `shape`.)"""
        return self.voting.next_item(rater, prompt_set=prompt_set, shape=kind or shape)

    def item_view(self, item_id: int) -> ItemView | None:
        """A rating item as the arena shows it: the prompt and its outputs in display order."""
        return self.voting.view_item(item_id)

    def release_items(self, rater: str) -> int:
        """The rater's page closed: the pairs shown to them and not voted on go to other
        raters at once (not after the 10-minute lease); returns how many were released."""
        return self.voting.release(rater)

    def ensure_rater(self, name: str, role: str | None = None):
        return self.catalog.ensure_rater(name, role)

    # -- raters: trust, exclusion, gold ----------------------------------------------------

    def exclude_rater(self, name: str, *, session: str | None = None, reason: str = "") -> bool:
        """Leave a rater's votes (or one session's) out of leaderboards, agreement, training and
        exports; they stay stored (`comparisons(include_excluded=True)`). `include_rater` undoes it."""
        return self.rater_review.exclude(name, session=session, reason=reason)

    def include_rater(self, name: str, *, session: str | None = None) -> bool:
        return self.rater_review.include(name, session=session)

    def mark_gold(self, item_id: int, answer: str) -> None:
        """Make a pair item gold: its right answer (left, right, tie, both_bad, as shown)."""
        self.gold.mark(item_id, answer)

    def import_gold(self, path: str | os.PathLike[str]) -> int:
        """Gold answers from a JSON Lines file (`studio import gold`); all or nothing."""
        return self.gold.import_file(path)

    def sampler_status(self):
        """Which pair sampler the pool runs now, and why."""
        return self.pair_choice.status()

    # -- improving contenders from the votes ------------------------------------------------

    def improve(self, contender: str, *, method: str = "dpo", background: bool = False,
                progress: bool | Callable | None = None, samples: int = 4, max_prompts: int = 64,
                prompt_set: str | None = None, requested_by: str | None = None,
                **settings: Any) -> dict[str, Any] | JobRecord:
        """Train `contender@v2` (v3, ...) from the votes and register it, in the arena at once
        against its parent. `method="dpo"`: DPO with a LoRA adapter on the decisive votes on
        pairs with one side the contender's (ties and both-bad left out, counted);
        `"rm-dpo"`: `samples` answers per prompt scored by the active reward model, best vs
        worst (refused unless that model beats chance beyond the noise). `settings`: fields
        of `studio.policy.config.DPOSettings` (epochs, learning_rate, beta, max_steps, ...).
        Returns the metrics (`contender` is the new name), or with `background=True` the
        queued job. A bad request is refused with one line before anything is written."""
        from studio.progress import phase_bars

        request = ImproveRequest(contender=contender, method=method, settings=settings, samples=samples,
                                 max_prompts=max_prompts, prompt_set=prompt_set, requested_by=requested_by)
        if background:
            return self.improvement.enqueue(request)
        return self.improvement.improve_now(request, phase_bars(progress))

    def lift(self, contender: str | None = None, *, min_votes: int = 20, predict: bool = True) -> pd.DataFrame:
        """Each improved version's win rate against its parent from human votes (ties half),
        with a 95% Wilson interval, the number of votes and a verdict ("not yet enough votes"
        below `min_votes`), beside the active reward model's predicted win rate on the same
        votes' outputs. `contender`: one family (its original's name) or one version."""
        return self.lifts.table(contender, min_votes=min_votes, predict=predict)

    def plot_lift(self, lift: pd.DataFrame | None = None, *, contender: str | None = None,
                  min_votes: int = 20) -> Figure:
        """Each version's win rate against its parent with its interval."""
        from studio.ranking.plots import plot_lift

        return plot_lift(self.lift(contender, min_votes=min_votes) if lift is None else lift)

    def disable_contender(self, name: str) -> None:
        """Take a contender (e.g. a version that turned out worse) out of the arena; it stays
        in the database with its outputs and votes."""
        self.catalog.set_contender_enabled(name, False)

    # -- exchange --------------------------------------------------------------------------

    def export(self, path: str | os.PathLike[str] | None = None, *, format: str, aggregate: str = "raw", ties: str = "drop",
               split: dict[str, float] | None = None, prompt_set: str | None = None,
               contenders: str | Sequence[str] | None = None, raters: str | Sequence[str] | None = None,
               since=None, until=None, source: str | None = None, min_agreement: float | None = None,
               force: bool = False, progress: bool | Callable[[int, int], None] | None = None,
               chunk_size: int = 10_000, to_store: str | None = None) -> ExportSummary:
        """Export votes to `path` as `format`: trl, trl-implicit, trl-conversational, kto, hf
        (a `datasets` folder), or jsonl/csv/parquet (every column of every vote).

        `aggregate="majority"` writes one row per pair with `votes` and `agreement`;
        `ties="keep"` keeps ties (label 0.5); `split={"test": 0.1}` holds out prompts (the
        same prompts the reward model holds out at that fraction); the filters select votes.
        Rows come in the order votes were cast. The database is read in chunks and written
        as it goes; the files appear only when complete, and an existing export is replaced
        only with `force=True`. `progress`: True/False for a bar, or a callable
        `(votes_done, votes_total)`.

        `to_store="NAME"` instead of `path` stores the export in the artifact store (the data
        dir, or the s3:// bucket another machine reads) as the tree `exports/NAME/<UTC time>`,
        whole or not at all; `summary.key` names it, `export_tree(key)` gives a local copy."""
        options = dict(format=format, aggregate=aggregate, ties=ties, split=split, prompt_set=prompt_set,
                       contenders=contenders, raters=raters, since=since, until=until, source=source,
                       min_agreement=min_agreement, force=force, progress=progress, chunk_size=chunk_size)
        if (path is None) == (to_store is None):
            raise InputError("give an export one place to go: --out PATH (path=), or --to-store NAME "
                             "(to_store=) for the artifact store, not both")
        if to_store is not None:
            return self.exports.export_to_store(to_store, **options)
        return self.exports.export(path, **options)

    def export_tree(self, key: str) -> Path:
        """A local folder holding the export stored under `key` (as `export(to_store=...)`
        returned it); from an object store it is downloaded once and checked."""
        return self.exports.export_tree(key)

    def import_votes(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                     progress: bool | None = None) -> ImportSummary:
        """Import human votes in the `elo_*.jsonl` format, or a studio `jsonl` export:
        contenders from model names, raters from judges, generations from the response
        texts (stored once per prompt and contender). Re-importing the same file adds nothing."""
        return self.imports.import_votes(path, prompt_set=prompt_set, progress=progress)

    def import_prefs(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                     progress: bool | None = None) -> ImportSummary:
        """Import preference pairs: TRL `prompt`/`chosen`/`rejected` (text or conversational),
        Anthropic HH `chosen`/`rejected` dialogues, or the `elo_*.jsonl` vote format. Each
        pair becomes one vote. Re-importing the same file adds nothing."""
        return self.imports.import_prefs(path, prompt_set=prompt_set, progress=progress)

    def import_generations(self, path: str | os.PathLike[str], *, prompt_set: str | None = None,
                           items: bool = True, progress: bool | None = None):
        """Import outputs generated elsewhere (text, or images next to the file) for raters to
        judge; their contenders are added as external ones. With `items`, every two outputs
        of a prompt from different contenders become a pair for the arena. Re-importing
        adds nothing."""
        return self.imports.import_generations(path, prompt_set=prompt_set, items=items, progress=progress)

    def write_imported_votes(self, votes, *, source: str, prompt_set: str) -> int:
        """Write parsed votes in one transaction; returns how many were new."""
        return self.imports.write_imported_votes(votes, source=source, prompt_set=prompt_set)

    def __repr__(self) -> str:
        return f"Studio({self.store.engine.url.render_as_string(hide_password=True)!r})"
