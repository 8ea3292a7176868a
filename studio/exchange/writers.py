"""Streaming writers (JSON Lines, CSV, Parquet, a Hugging Face dataset) and the safe target
they write into.

Every export is written into a temporary file or directory next to the target and renamed
onto it at the end, so a failed or interrupted export leaves nothing behind, and readers
never see half a file. An existing file, or a directory, is replaced only with `force`,
and a directory only when it is empty or an earlier studio export (it holds the marker).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from studio.errors import InputError

MARKER = ".studio-export"
Chunk = dict[str, Sequence[Any]]   # columns: name -> values, one per row


class Writer(Protocol):
    rows: int

    def write(self, columns: Chunk) -> None: ...

    def close(self) -> None: ...


# -- the target --------------------------------------------------------------------------------

class Target:
    """`with Target(path, directory=..., force=...) as temp:` write into `temp`; on success it
    replaces `path`, on any error it is removed."""

    def __init__(self, path: str | os.PathLike[str], *, directory: bool, force: bool = False):
        self.path = Path(path).expanduser()
        self.directory = directory
        self.force = force
        self.temp: Path | None = None
        _check_replaceable(self.path, force)

    def __enter__(self) -> Path:
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot create the folder {parent} ({exc.strerror})") from exc
        if not os.access(parent, os.W_OK):
            raise InputError(f"{self.path}: the folder {parent} is not writable")
        prefix = f".{self.path.name}.tmp-"
        if self.directory:
            self.temp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
            (self.temp / MARKER).write_text("written by Feedback Studio's export\n")
        else:
            self.temp = parent / f"{prefix}{uuid.uuid4().hex[:12]}"
        return self.temp

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            _remove(self.temp)
            return
        _check_replaceable(self.path, self.force)   # again: something may have appeared meanwhile
        old = None
        if self.path.exists():
            old = self.path.parent / f".{self.path.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(self.path, old)
        os.rename(self.temp, self.path)
        _remove(old)


def _check_replaceable(path: Path, force: bool) -> None:
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link: name the real path to write to")
    if not path.exists():
        return
    if path.is_dir():
        entries = list(path.iterdir())
        if not entries:
            return
        if not force:
            raise InputError(f"{path} is a folder that is not empty: choose another --out, or --force to replace "
                             "an earlier export")
        if not (path / MARKER).is_file():
            raise InputError(f"{path} is a folder the studio did not write: it will not replace it, even with "
                             "--force; choose another --out")
        return
    if not path.is_file():
        raise InputError(f"{path} exists and is not a regular file: choose another --out")
    if path.stat().st_size and not force:
        raise InputError(f"{path} exists: choose another --out, or --force to replace it")


def _remove(path: Path | None) -> None:
    if path is None or not (path.exists() or path.is_symlink()):
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# -- file writers -----------------------------------------------------------------------------

class JsonlWriter:
    """One JSON object a line, UTF-8, times as ISO 8601 in UTC."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.names = schema.names
        self.handle = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 (closed in close())
        self.rows = 0
        try:
            import orjson  # comes with gradio; the stdlib is the slower fallback
        except ImportError:
            orjson = None
        self._orjson = orjson

    def write(self, columns: Chunk) -> None:
        # one line at a time into the buffered file: orjson's results carry spare capacity,
        # so holding a chunk's lines at once would cost several times their size
        names, write = self.names, self.handle.write
        rows = zip(*(columns[n] for n in names), strict=True)
        count = 0
        if self._orjson is not None:
            dumps, option = self._orjson.dumps, self._orjson.OPT_NAIVE_UTC | self._orjson.OPT_APPEND_NEWLINE
            try:
                for values in rows:
                    write(dumps(dict(zip(names, values, strict=True)), option=option))
                    count += 1
            except TypeError:       # a value orjson cannot write: the rest of the chunk the slow way
                rows = itertools.islice(zip(*(columns[n] for n in names), strict=True), count, None)
        for values in rows:
            write(_stdlib_dumps(dict(zip(names, values, strict=True))))
            count += 1
        self.rows += count

    def close(self) -> None:
        self.handle.close()


class ParquetWriter:
    def __init__(self, path: Path, schema: pa.Schema):
        import pyarrow.parquet as pq

        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.rows = 0

    def write(self, columns: Chunk) -> None:
        table = pa.Table.from_pydict({n: columns[n] for n in self.schema.names}, schema=self.schema)
        if table.num_rows:
            self.writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()


class CsvWriter:
    """A header row, then one row a vote; empty cells for missing values."""

    def __init__(self, path: Path, schema: pa.Schema):
        import pyarrow.csv as pacsv

        self.schema = schema
        self.writer = pacsv.CSVWriter(str(path), schema)
        self.rows = 0

    def write(self, columns: Chunk) -> None:
        table = pa.Table.from_pydict({n: columns[n] for n in self.schema.names}, schema=self.schema)
        if table.num_rows:
            self.writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()


class HfSplitWriter:
    """One split of a Hugging Face dataset, streamed to an Arrow file with its features;
    image columns hold the image bytes (`read_media(key)`, from the studio's artifact store) as
    `datasets.Image`."""

    def __init__(self, path: Path, schema: pa.Schema, *, read_media: Callable[[str], bytes] | None,
                 image_columns: tuple[str, ...] = ("chosen_image", "rejected_image")):
        from datasets import Features, Image
        from datasets.arrow_writer import ArrowWriter

        self.path = path
        self.image_columns = [c for c in image_columns if c in schema.names]
        features = Features.from_arrow_schema(schema)
        for column in self.image_columns:
            features[column] = Image()
        self.features = features
        self.read_media = read_media
        self.writer = ArrowWriter(features=features, path=str(path), writer_batch_size=1000)
        self.rows = 0

    def write(self, columns: Chunk) -> None:
        batch = {n: columns[n] for n in self.features}
        for column in self.image_columns:
            batch[column] = [None if p is None else {"bytes": self._image(p), "path": p} for p in batch[column]]
        size = len(next(iter(batch.values()), []))
        if size:
            self.writer.write_batch(batch)
        self.rows += size

    def _image(self, key: str) -> bytes:
        if self.read_media is None:
            raise InputError(f"cannot read media '{key}': the export was given no artifact store")
        return self.read_media(key)

    def close(self) -> None:
        self.writer.finalize()
        self.writer.close()


def save_hf_dataset(parts: dict[str, Path], target: Path, *, as_dict: bool) -> None:
    """Turn the streamed Arrow files into a `save_to_disk` dataset (a DatasetDict with splits)."""
    from datasets import Dataset, DatasetDict
    from datasets.utils.tqdm import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    quiet = are_progress_bars_disabled()
    disable_progress_bars()    # the export's own bar shows progress
    try:
        datasets = {name: Dataset.from_file(str(path)) for name, path in parts.items()}
        # an empty split still gets one (empty) shard: with none, load_from_disk fails
        shards = {name: 1 for name, part in datasets.items() if len(part) == 0}
        if as_dict:
            DatasetDict(datasets).save_to_disk(str(target), num_shards=shards or None)
        else:
            next(iter(datasets.values())).save_to_disk(str(target), num_shards=1 if shards else None)
        del datasets
    finally:
        if not quiet:
            enable_progress_bars()


def _stdlib_dumps(row: dict) -> bytes:
    import json
    from datetime import UTC, datetime

    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    return (json.dumps(row, ensure_ascii=False, default=default) + "\n").encode("utf-8", "surrogatepass")
