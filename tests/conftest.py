"""Shared fixtures: real SQLite files in tmp_path, a real PostgreSQL, Redis and SeaweedFS server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services
from tests.browser_fixtures import browser, page  # noqa: F401  (one Chromium for the whole session)

ROOT = Path(__file__).resolve().parent.parent
SHARED_PREFS = (ROOT.parent / "shared" / "data" / "prefs").resolve()

# Tests never download: every model is built offline or shipped in a package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Converted models (e.g. SmolLM2 from GGUF) are cached across runs, outside the repo's git tree.
os.environ.setdefault("STUDIO_CACHE", str(ROOT / ".pytest_cache" / "studio-cache"))


def shared_prefs(name: str) -> Path:
    """A file of ../shared/data/prefs, or a skip saying where it should be."""
    path = SHARED_PREFS / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the real preference data lives in ../shared/data/prefs/")
    return path


@pytest.fixture
def quick_reaping(monkeypatch) -> None:
    """This process's job recovery fails a job whose process is gone 1 s after its last
    heartbeat instead of a beat interval later (that rule: tests/jobs/test_job_states.py)."""
    from datetime import timedelta

    import studio.services.jobs as jobs_module

    monkeypatch.setattr(jobs_module, "DEAD_PROCESS_SILENCE", timedelta(seconds=1))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[services.PostgresServer]:
    server = services.start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.RedisServer]:
    server = services.start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[services.SeaweedServer]:
    """A real S3-compatible object store (SeaweedFS) for the session; skips when absent."""
    server = services.start_seaweed()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(seaweed_server) -> str:
    """A fresh, empty place in the session's SeaweedFS, used like a bucket name (bucket/prefix)."""
    return seaweed_server.new_bucket()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """The same test against a SQLite file and against a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studio.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def studio(database_url, tmp_path):
    """A `Studio` on each back end, with its files in tmp_path."""
    from studio.api import Studio

    with Studio.open(database_url, data_dir=tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def sqlite_studio(tmp_path):
    from studio.api import Studio

    with Studio.open(tmp_path / "data") as opened:
        yield opened
