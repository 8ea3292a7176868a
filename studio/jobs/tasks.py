"""What a worker's tasks run on: the services a job needs, built from the worker's own
config once per process and shared by its tasks (one engine, one group committer, one
artifact store), never a `Studio` (a worker does not register its own studio.toml's
contenders).

    run_training_job(config, job_id)      # run one queued training as a worker would
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from studio.config import StudioConfig
from studio.services.improvement import ImprovementService
from studio.services.jobs import JobBoard, TaskQueue
from studio.services.training import TrainingService

if TYPE_CHECKING:
    from studio.services.features import FeatureService
    from studio.services.pool_jobs import PoolJobs


class WorkerServices:
    """`queue`: the worker's own queue (a `TaskQueue`), so that recovering jobs can send their
    tasks again; set it before the first `training()` / `pool_jobs()`."""

    def __init__(self, config: StudioConfig, queue: TaskQueue | None = None):
        self.config = config
        self.queue = queue
        self._training: TrainingService | None = None
        self._improvement: ImprovementService | None = None
        self._pool_jobs: PoolJobs | None = None
        self._features: FeatureService | None = None
        self._lock = threading.Lock()

    def training(self) -> TrainingService:
        with self._lock:
            if self._training is None:
                from studio.artifacts import open_artifacts
                from studio.services.registry import RewardRegistry
                from studio.store import Store

                store = Store(self.config.database_url, synchronous=self.config.sqlite_synchronous)
                registry = RewardRegistry(store, self.config, open_artifacts(self.config))
                self._training = TrainingService(store, self.config, registry, JobBoard(store, self.queue),
                                                 self.queue)
            return self._training

    def improvement(self) -> ImprovementService:
        """The improvement service on the training service's store and registry."""
        training = self.training()
        with self._lock:
            if self._improvement is None:
                from studio.services.generators import Generators

                registry = training.registry
                generators = Generators(training.store, self.config, registry, registry.artifacts)
                self._improvement = ImprovementService(training.store, self.config, registry, generators,
                                                       registry.artifacts, training.jobs, self.queue)
            return self._improvement

    def pool_jobs(self) -> PoolJobs:
        """The pool's top-ups as this worker runs them: its own models, the shared store."""
        training = self.training()
        with self._lock:
            if self._pool_jobs is None:
                from studio.services.generation import GenerationService
                from studio.services.generators import Generators
                from studio.services.pair_choice import PairChooser
                from studio.services.pool import PoolService
                from studio.services.pool_jobs import PoolJobs

                store, registry = training.store, training.registry
                generators = Generators(store, self.config, registry)
                generation = GenerationService(store, self.config, generators, registry.artifacts)
                pool = PoolService(store, self.config, generators, generation,
                                   PairChooser(store, self.config, registry))
                self._pool_jobs = PoolJobs(store, self.config, pool, training.jobs, self.queue)
            return self._pool_jobs

    def features(self) -> FeatureService:
        """Feature-cache builds into this machine's data dir (where its trainings read them)."""
        training = self.training()
        with self._lock:
            if self._features is None:
                from studio.services.features import FeatureService

                self._features = FeatureService(training.store, self.config, training.registry, training.jobs,
                                                self.queue)
            return self._features

    def job_board(self) -> JobBoard:
        return self.training().jobs

    def close(self) -> None:
        with self._lock:
            if self._training is not None:
                self._training.store.close()
                self._training = None
                self._improvement = None
                self._pool_jobs = None
                self._features = None


def run_improvement_job(config: StudioConfig, job_id: int) -> dict[str, Any] | None:
    """Run one queued improvement on fresh services, as a worker process would."""
    services = WorkerServices(config)
    try:
        return services.improvement().run_job(job_id)
    finally:
        services.close()


def run_training_job(config: StudioConfig, job_id: int) -> dict[str, Any] | None:
    """Run one queued training on fresh services, as a worker process would."""
    services = WorkerServices(config)
    try:
        return services.training().run_job(job_id)
    finally:
        services.close()
