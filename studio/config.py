"""One `StudioConfig`, built once and passed down.

Precedence: built-in defaults < `studio.toml` in the data dir < environment < explicit
overrides (CLI flags, keyword arguments). This is the only module that reads environment
variables; everything else receives a `StudioConfig`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.contender_spec import (
    ContenderSpec,
    check_unique_names,
    contender_from_dict,
    describe_types,
    matches_types,
)
from studio.errors import ConfigError

CONFIG_FILE_NAME = "studio.toml"
DEFAULT_DATA_DIR = "studio-data"

# Environment variables the studio honours (read here and nowhere else).
ENV_DATA = "STUDIO_DATA"
ENV_CACHE = "STUDIO_CACHE"
ENV_DATABASE_URL = "STUDIO_DATABASE_URL"
ENV_QUEUE_URL = "STUDIO_QUEUE_URL"
ENV_ARTIFACTS_URL = "STUDIO_ARTIFACTS_URL"
# The usual AWS variables, for an S3-compatible artifact store.
ENV_AWS = {"endpoint_url": "AWS_ENDPOINT_URL", "region": "AWS_REGION", "access_key_id": "AWS_ACCESS_KEY_ID",
           "secret_access_key": "AWS_SECRET_ACCESS_KEY"}

@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 7860
    auth_file: str | None = None
    # Prompts, outputs and votes are private: nothing leaves the machine unless asked.
    analytics: bool = False
    share: bool = False
    vote_concurrency: int = 64


@dataclass(frozen=True)
class PoolConfig:
    min_ready: int = 8          # ready, unrated pairs kept per prompt set
    batch_size: int = 8         # prompts generated per batch
    votes_per_pair: int = 1     # raters asked to judge each pair (more gives agreement data)
    seed: int = 0
    # Which contender pairs the pool makes: "active" (where a vote narrows the leaderboard's
    # intervals most, services/pair_choice.py) once there are `active_min_votes` counted
    # votes, uniform before; "uniform" always rotates the pairs evenly.
    sampling: str = "active"
    active_min_votes: int = 50
    sampling_floor: float = 0.1     # share of pairs drawn uniformly, so none is starved
    gold_rate: float = 0.0          # share of a rater's items that are gold items (when any)
    # True: the server generates nothing itself; each top-up is a queue task that a
    # `studio worker --generate` able to load the contenders takes (a CPU server, GPU workers).
    on_workers: bool = False
    # Of an improved version's pairs, the share against its parent (the lift's votes).
    versus_parent_share: float = 0.5


@dataclass(frozen=True)
class TrainingConfig:
    backbone: str = "all-minilm-l6-v2"
    # Votes on images train a model of their own on this backbone (a CLIP-style hub id or
    # path); None: image votes are not retrained automatically (`studio train --kind image --backbone`).
    image_backbone: str | None = None
    mode: str = "head"                 # "head" (fast, frozen backbone) or "full"
    retrain_every: int = 50            # new votes that trigger a head-mode retrain
    full_retrain_every: int = 0        # new votes that trigger a full fine-tune; 0 = by hand
    max_length: int = 256
    epochs: int = 3                    # head mode (which runs at least enough steps to converge)
    # full mode: a reward model overfits its pairs after about one epoch (InstructGPT trains one;
    # on hh_mix MiniLM-L6 scored 58.4% after one epoch, and 57.4%, 58.9%, 57.1% after each of three)
    full_epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 1e-3
    heldout_fraction: float = 0.15
    seed: int = 0


@dataclass(frozen=True)
class ArtifactsConfig:
    """How to reach an S3-compatible artifact store (`[artifacts]` in studio.toml, over which
    the AWS_* variables win). The keys never appear in a repr, a message or a log."""

    endpoint_url: str | None = None      # e.g. http://minio.internal:9000; None: AWS itself
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    # This machine's copies of the store's files and models (under STUDIO_CACHE) stay under
    # this many GB, least recently used first out.
    cache_max_gb: float = 20.0

    def __post_init__(self):
        if isinstance(self.cache_max_gb, bool) or not isinstance(self.cache_max_gb, int | float) \
                or self.cache_max_gb <= 0:
            raise ConfigError(f"[artifacts] cache_max_gb = {self.cache_max_gb!r}: give the local cache's "
                              "bound as a positive number of GB, e.g. cache_max_gb = 20")

    @property
    def cache_max_bytes(self) -> int:
        return int(self.cache_max_gb * 2**30)


@dataclass(frozen=True)
class StudioConfig:
    data_dir: Path
    database_url: str
    cache_dir: Path
    queue_url: str | None = None       # None: a SQLite Huey file in the data dir
    # Where media, checkpoints and adapters live: None (the data dir), a directory, or
    # s3://bucket/prefix (see studio.artifacts).
    artifacts_url: str | None = None
    artifacts: ArtifactsConfig = field(default_factory=ArtifactsConfig)
    sqlite_synchronous: str = "FULL"
    server: ServerConfig = field(default_factory=ServerConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    contenders: tuple[ContenderSpec, ...] = ()

    @property
    def media_dir(self) -> Path:
        """Where media live with the default artifact store (the data dir)."""
        return self.data_dir / "media"

    @property
    def checkpoints_dir(self) -> Path:
        """Where checkpoints live with the default artifact store (the data dir)."""
        return self.data_dir / "reward-models"

    @property
    def config_file(self) -> Path:
        return self.data_dir / CONFIG_FILE_NAME

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def replace(self, **changes: Any) -> StudioConfig:
        return dataclasses.replace(self, **changes)


def is_database_url(target: str) -> bool:
    return "://" in target


def sqlite_url(path: Path) -> str:
    try:
        return f"sqlite:///{path.resolve()}"
    except RuntimeError as exc:      # a loop of symbolic links on the way to the database
        raise ConfigError(f"{path}: cannot open the database there ({exc}); give another --data") from exc


def _refuse_sqlite_companion(directory: Path) -> None:
    """A data dir named like a database's WAL, shared-memory or journal file: SQLite deletes
    the WAL on a clean close, and a folder made in its place locks the database out."""
    for suffix in ("-wal", "-shm", "-journal"):
        if not directory.name.endswith(suffix) or directory.name == suffix:
            continue
        database = directory.with_name(directory.name.removesuffix(suffix))
        if database.is_file():
            raise ConfigError(f"{directory}: that is where SQLite keeps the {suffix[1:]} file of {database.name}, "
                              "not a data dir; give the folder that holds it")


def default_cache_dir(env: dict[str, str]) -> Path:
    if env.get(ENV_CACHE):
        return Path(env[ENV_CACHE]).expanduser()
    return Path("~/.cache/studio").expanduser()


def load_config(
    target: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> StudioConfig:
    """Build the config for a data dir or a database URL.

    `target` is a data dir (database, media, queue and checkpoints inside it) or a
    database URL; when it is a URL, files live in `data_dir` (default: `STUDIO_DATA` or
    `./studio-data`). `overrides` are top-level `StudioConfig` fields, e.g. from CLI flags.
    """
    env = dict(os.environ) if env is None else env
    target_str = os.fspath(target) if target is not None else None
    url: str | None = None
    if target_str and is_database_url(target_str):
        url = target_str
        target_str = None
    directory = Path(target_str or data_dir or env.get(ENV_DATA) or DEFAULT_DATA_DIR).expanduser()
    _refuse_sqlite_companion(directory)

    file_values = read_config_file(directory / CONFIG_FILE_NAME)
    top = file_values.pop("studio", {})
    database_url = url or env.get(ENV_DATABASE_URL) or top.get("database_url") \
        or sqlite_url(directory / "studio.db")
    queue_url = env.get(ENV_QUEUE_URL) or top.get("queue_url")
    artifacts_url = env.get(ENV_ARTIFACTS_URL) or top.get("artifacts_url")
    artifact_keys = {**file_values.get("artifacts", {}),
                     **{name: env[var] for name, var in ENV_AWS.items() if env.get(var)}}
    if "region" not in artifact_keys and env.get("AWS_DEFAULT_REGION"):
        artifact_keys["region"] = env["AWS_DEFAULT_REGION"]
    cache_dir = Path(top["cache_dir"]).expanduser() if "cache_dir" in top else default_cache_dir(env)

    config = StudioConfig(
        data_dir=directory,
        database_url=database_url,
        cache_dir=cache_dir,
        queue_url=queue_url,
        artifacts_url=artifacts_url,
        artifacts=ArtifactsConfig(**artifact_keys),
        sqlite_synchronous=top.get("sqlite_synchronous", "FULL"),
        server=ServerConfig(**file_values.get("server", {})),
        pool=PoolConfig(**file_values.get("pool", {})),
        training=TrainingConfig(**file_values.get("training", {})),
        contenders=tuple(file_values.get("contenders", ())),
    )
    return config.replace(**overrides) if overrides else config


_SECTIONS = {"server": ServerConfig, "pool": PoolConfig, "training": TrainingConfig, "artifacts": ArtifactsConfig}
_TOP_KEYS = {"database_url": str, "queue_url": str, "artifacts_url": str, "cache_dir": str,
             "sqlite_synchronous": str}


def read_config_file(path: Path) -> dict[str, Any]:
    """Read and validate `studio.toml`; a missing file means all defaults."""
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from exc
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "studio":
            values["studio"] = _check_table(path, "[studio]", value, _TOP_KEYS)
            if values["studio"].get("sqlite_synchronous", "FULL").upper() not in ("NORMAL", "FULL", "EXTRA"):
                raise ConfigError(f"{path}: [studio] sqlite_synchronous must be NORMAL, FULL or EXTRA")
        elif key in _SECTIONS:
            types = {f.name: _field_type(f) for f in dataclasses.fields(_SECTIONS[key])}
            values[key] = _check_table(path, f"[{key}]", value, types)
            if key == "pool":
                _check_pool(path, values[key])
        elif key == "contenders":
            if not isinstance(value, list):
                raise ConfigError(f"{path}: 'contenders' must be an array of tables ([[contenders]])")
            values["contenders"] = [contender_from_dict(item, where=str(path)) for item in value]
            check_unique_names(str(path), values["contenders"])
        else:
            raise ConfigError(
                f"{path}: unknown section '{key}' (known: studio, server, pool, training, artifacts, contenders)")
    return values


def _check_pool(path: Path, pool: dict[str, Any]) -> None:
    if pool.get("sampling", "active") not in ("active", "uniform"):
        raise ConfigError(f"{path}: [pool] sampling must be \"active\" or \"uniform\", got {pool['sampling']!r}")
    for key in ("sampling_floor", "gold_rate"):
        if not 0 <= pool.get(key, 0) <= 1:
            raise ConfigError(f"{path}: [pool] {key} must be between 0 and 1, got {pool[key]!r}")


def _field_type(f: dataclasses.Field) -> tuple[type, ...]:
    annotation = str(f.type)
    if "bool" in annotation:
        return (bool,)
    if "float" in annotation:
        return (int, float)
    if "int" in annotation:
        return (int,)
    return (str, type(None))


def _check_table(path: Path, section: str, value: Any, types: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {section} must be a table")
    for key, item in value.items():
        if key not in types:
            raise ConfigError(f"{path}: {section} unknown key '{key}' (known: {', '.join(sorted(types))})")
        allowed = types[key] if isinstance(types[key], tuple) else (types[key],)
        if not matches_types(item, allowed):
            raise ConfigError(f"{path}: {section} key '{key}' must be {describe_types(allowed)}, got {item!r}")
    return dict(value)
