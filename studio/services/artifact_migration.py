"""Moving a studio's files into another artifact store (`studio artifacts migrate --to URL`):
every media file and every model directory (reward-model checkpoints, policy adapters) of
the source store is copied to the target under the same key, read back from the target and
checked against the source's sha256, and only when every one of them is there and checked
does the studio's `studio.toml` switch to the new `artifacts_url`. The database does not
change: it holds keys relative to the store, the same in both.

Resumable: a file already in the target with the right hash, or a tree whose manifest is
there (written last, after every one of its files), is not sent again, so running the
command again after an interruption carries on where it stopped.

    summary = migrate_artifacts(source, target, config_file, progress=print)
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.artifacts.base import MANIFEST, ArtifactStore, read_manifest, sha256_bytes, sha256_file
from studio.config import read_config_file
from studio.errors import ConfigError, StudioError

FILE_FOLDERS = ("media", "exports")                     # single files, by key
TREE_FOLDERS = ("reward-models", "adapters", "policy-adapters")   # one model directory per child


@dataclass
class MigrationSummary:
    target: str
    copied: int = 0            # files sent now
    already: int = 0           # files found in the target already, with the right hash
    trees: int = 0             # model directories in the target after the run
    problems: list[str] = field(default_factory=list)


def migrate_artifacts(source: ArtifactStore, target: ArtifactStore, config_file: Path, *,
                      local_root: Path, progress: Callable[[str], None] | None = None) -> MigrationSummary:
    """Copy every file of `source` (a local store rooted at `local_root`) into `target`,
    verifying each, then point `config_file` at `target.url`."""
    say = progress or (lambda line: None)
    summary = MigrationSummary(target=target.url)
    target.check()
    for folder in FILE_FOLDERS:
        for key in source.keys(folder):
            _copy_file(source, target, key, summary)
    for folder in TREE_FOLDERS:
        base = local_root / folder
        if not base.is_dir():
            continue
        for directory in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
            _copy_tree(target, f"{folder}/{directory.name}", directory, summary)
            say(f"{folder}/{directory.name}: stored and checked")
    say(f"{summary.copied} file(s) copied, {summary.already} already there, {summary.trees} model dir(s)")
    if summary.problems:
        raise StudioError(f"{len(summary.problems)} file(s) did not arrive intact in {target.url} (first: "
                          f"{summary.problems[0]}); studio.toml is unchanged: run the command again")
    set_artifacts_url(config_file, target.url)
    return summary


def _copy_file(source: ArtifactStore, target: ArtifactStore, key: str, summary: MigrationSummary) -> None:
    data = source.read_bytes(key)
    digest = sha256_bytes(data)
    if target.exists(key):
        if target.stored_sha256(key) == digest:
            summary.already += 1
            return
        target.remove([key])                      # a wrong copy from an earlier run: send it again
    target.put_bytes(key, data)
    if target.stored_sha256(key) != digest:
        summary.problems.append(key)
        return
    summary.copied += 1


def _copy_tree(target: ArtifactStore, key: str, directory: Path, summary: MigrationSummary) -> None:
    if not target.has_tree(key):
        staging = target.staging_dir(key)
        try:
            staged = staging / directory.name
            shutil.copytree(directory, staged, ignore=shutil.ignore_patterns(MANIFEST))
            target.move_tree_in(key, staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        summary.copied += sum(1 for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    else:
        summary.already += 1
    files = read_manifest(target.read_stored(f"{key}/{MANIFEST}"), key)
    for relative, expected in files.items():
        local = directory / relative
        if not local.is_file() or sha256_file(local) != expected["sha256"] \
                or target.stored_sha256(f"{key}/{relative}") != expected["sha256"]:
            summary.problems.append(f"{key}/{relative}")
    summary.trees += 1


def set_artifacts_url(config_file: Path, url: str) -> None:
    """Write `[studio] artifacts_url = URL` into studio.toml (other lines kept), validated
    before it replaces the file."""
    config_file = Path(config_file)
    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    line = f'artifacts_url = "{url}"'
    if re.search(r"(?m)^\s*artifacts_url\s*=.*$", text):
        text = re.sub(r"(?m)^\s*artifacts_url\s*=.*$", line, text, count=1)
    elif re.search(r"(?m)^\[studio\]\s*$", text):
        text = re.sub(r"(?m)^\[studio\]\s*$", f"[studio]\n{line}", text, count=1)
    else:
        text = f"[studio]\n{line}\n\n{text}"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=config_file.parent, prefix=".studio-", suffix=".toml",
                                     delete=False, encoding="utf-8") as stream:
        stream.write(text)
    temporary = Path(stream.name)
    try:
        try:
            read_config_file(temporary)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(str(temporary), str(config_file))) from None
        temporary.replace(config_file)
    finally:
        temporary.unlink(missing_ok=True)
