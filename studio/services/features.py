"""The feature cache as a job: a reward backbone's embeddings of every text output computed
once, ahead of head-mode trainings, in the foreground with a progress bar or in the
background on a worker (`studio features build --background`), with progress and an ETA
in the job's row. What it stores is kept chunk by chunk, so a build that is cancelled,
killed or failed resumes where it stopped when asked again; outputs already embedded are
never computed twice. One build per backbone setting at a time (the row's `active_key`).

    service.build_now(FeatureRequest("smollm2-135m"), show=bars)
    service.enqueue(FeatureRequest("smollm2-135m"))           # a worker picks it up
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.config import StudioConfig
from studio.errors import InputError, StudioError
from studio.services.heartbeat import Heartbeat
from studio.services.job_reporter import JobReporter
from studio.services.jobs import JobBoard, TaskQueue, worker_name
from studio.services.registry import RewardRegistry
from studio.store import Store
from studio.store.jobs import JobRecord

FEATURES_KIND = "build_features"          # the jobs table's kind
FEATURES_TASK = "studio.build_features"   # the Huey task that runs one (on a training worker)


@dataclass(frozen=True)
class FeatureRequest:
    backbone: str
    max_length: int | None = None          # None: [training] max_length, as a training would use
    pairs_files: tuple[str, ...] = ()      # TRL JSONL files to embed instead of the studio's outputs

    def __post_init__(self):
        if not str(self.backbone or "").strip():
            raise InputError("name a backbone to embed with, e.g. --backbone smollm2-135m")
        if self.max_length is not None and self.max_length < 8:
            raise InputError(f"max_length must be at least 8, got {self.max_length}")
        object.__setattr__(self, "pairs_files", tuple(str(p) for p in self.pairs_files))

    def active_key(self) -> str:
        """One build at a time per backbone and max length (set by `FeatureService.resolved`)."""
        return f"features:{self.backbone}:{self.max_length}"

    def to_payload(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "pairs_files": list(self.pairs_files)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FeatureRequest:
        return cls(backbone=payload["backbone"], max_length=payload.get("max_length"),
                   pairs_files=tuple(payload.get("pairs_files") or ()))


class FeatureService:
    def __init__(self, store: Store, config: StudioConfig, registry: RewardRegistry, jobs: JobBoard,
                 queue: TaskQueue | None = None):
        self.store = store
        self.config = config
        self.registry = registry
        self.jobs = jobs
        self.queue = queue

    def build_now(self, request: FeatureRequest, show: Callable | None = None) -> dict[str, Any]:
        """Fill the cache in this process under a job row of its own (the UI and `studio jobs`
        see it; a second build of the same setting is refused meanwhile)."""
        from studio.rewards.common import TrainingCancelled

        request = self.resolved(request)
        key = request.active_key()
        self.jobs.release_held(key, {FEATURES_KIND: FEATURES_TASK})
        me = worker_name()
        with self.store.transaction() as tx:
            job = tx.jobs.create(FEATURES_KIND, {**request.to_payload(), "foreground": True}, active_key=key)
            if job is None:
                holder = tx.jobs.holding(key)
                raise StudioError(f"a feature build for {request.backbone} is already "
                                  f"{holder.status if holder else 'running'} (job {holder.id if holder else '?'}): "
                                  "wait for it, or cancel it with `studio jobs cancel ID`")
            tx.jobs.start(job.id, me)
        reporter = JobReporter(self.store, job.id, counted_phase="embedding")

        def report(update) -> None:
            reporter(update)
            if show:
                show(update)

        try:
            with Heartbeat(self.store, job.id, me):
                return self._build(request, job.id, report, reporter.should_stop)
        except BaseException as exc:
            with self.store.transaction() as tx:
                if isinstance(exc, TrainingCancelled):
                    tx.jobs.cancelled(job.id, f"{exc}")
                elif isinstance(exc, KeyboardInterrupt):
                    tx.jobs.cancelled(job.id, "interrupted; what was embedded is kept: run it again to resume")
                else:
                    tx.jobs.fail(job.id, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if show:
                show(None)

    def enqueue(self, request: FeatureRequest) -> JobRecord:
        """Queue a build for a worker; when one of the same setting is queued or running,
        that job is returned and nothing new is queued."""
        if self.queue is None:
            raise StudioError("this studio has no job queue: build in the foreground (without --background)")
        request = self.resolved(request)      # the worker embeds at this studio's length, not its own
        key = request.active_key()
        self.jobs.release_held(key, {FEATURES_KIND: FEATURES_TASK})
        with self.store.transaction() as tx:
            job = tx.jobs.create(FEATURES_KIND, request.to_payload(), active_key=key)
            if job is None:
                return tx.jobs.holding(key) or tx.jobs.latest(FEATURES_KIND)
        return self.jobs.send(job.id, FEATURES_TASK)

    def run_job(self, job_id: int) -> dict[str, Any] | None:
        """Run a queued build (the worker's task). Returns its outcome; None when it was
        cancelled, failed or already taken."""
        from studio.rewards.common import TrainingCancelled

        me = worker_name()
        with self.store.transaction() as tx:
            if not tx.jobs.start(job_id, me):
                return None
            job = tx.jobs.get(job_id)
        reporter = JobReporter(self.store, job_id, counted_phase="embedding")
        try:
            with Heartbeat(self.store, job_id, me):
                return self._build(FeatureRequest.from_payload(job.payload), job_id, reporter, reporter.should_stop)
        except TrainingCancelled as exc:
            with self.store.transaction() as tx:
                tx.jobs.cancelled(job_id, f"{exc}")
            return None
        except Exception as exc:
            self.jobs.fail(job_id, exc)
            return None

    def items(self, request: FeatureRequest) -> list:
        """The outputs to embed: the pairs files' sides, or every text output of the studio."""
        from studio.rewards.data import Item, content_key, read_pairs_file

        if request.pairs_files:
            seen: dict[str, Item] = {}
            for path in request.pairs_files:
                for item in read_pairs_file(path).items:
                    seen.setdefault(item.key, item)
            return list(seen.values())
        with self.store.reader() as tx:
            rows = list(tx.generations.text_outputs())
        unique = {content_key(prompt, digest): (prompt, text) for prompt, text, digest in rows}
        return [Item(key=key, prompt=prompt, text=text) for key, (prompt, text) in unique.items()]

    def resolved(self, request: FeatureRequest) -> FeatureRequest:
        """The request checked (its files exist) with its max length filled in from
        [training] max_length, as a training here would use it."""
        for path in request.pairs_files:
            if not Path(path).is_file():
                raise InputError(f"{path}: no such file (a JSON Lines file with prompt, chosen, rejected)")
        return dataclasses.replace(request, max_length=request.max_length or self.config.training.max_length)

    def _build(self, request: FeatureRequest, job_id: int, progress, should_stop) -> dict[str, Any]:
        from studio.rewards.common import embedding_cache
        from studio.rewards.feature_build import fill_cache
        from studio.rewards.net import build_net, embedding_precision, make_spec

        started = time.monotonic()
        items = self.items(request)
        if not items:
            raise InputError("no text outputs to embed yet: generate some first (`studio generate`) or pass --pairs FILE")
        spec = make_spec(request.backbone, kind="text", mode="head", max_length=self.resolved(request).max_length)
        net = build_net(spec)
        cache = embedding_cache(self.registry.embeddings_dir, net)
        outcome = fill_cache(net, items, cache, progress=progress, should_stop=should_stop).to_dict()
        outcome.update(backbone=request.backbone, precision=embedding_precision(net._device()),
                       cache_dir=str(cache.directory), cache_bytes=cache.disk_bytes(),
                       total_s=round(time.monotonic() - started, 3))
        message = (f"{request.backbone}: {outcome['vectors']} vectors for {outcome['items']} outputs, "
                   f"{outcome['embedded']} embedded now ({outcome['cached_before']} were cached), "
                   f"in {outcome['precision']}")
        with self.store.transaction() as tx:
            if not tx.jobs.finish(job_id, outcome, message):
                status = tx.jobs.get(job_id).status
                raise StudioError(f"job {job_id} was {status} before the build finished; what it embedded is kept")
        return outcome
