"""The artifact store on an S3-compatible object store (`s3://bucket/prefix`) through fsspec
and s3fs, with a local cache so that each machine downloads a file or a model once.

- Files: uploaded under a temporary key (`<prefix>/.partial/<uuid>`), then copied to their
  key on the server and the temporary key deleted, so a reader (and the database, which
  learns the key only after `put_bytes` returns) never sees half a file.
- Trees (model directories): every file under `<key>/`, then the manifest (each file's
  sha256 and size) last; without its manifest a tree does not exist, so an uploader killed
  half way leaves nothing anyone reads.
- The cache (`<cache_dir>/<store id>/<key>`, `studio.artifacts.cache`): a media file is
  checked against the sha256 its key carries, a tree against its manifest, before it is
  moved into place; past `[artifacts] cache_max_gb` the least recently used entries go.

Credentials come from the config (`[artifacts]` keys or the AWS_* variables); they are never
part of `url`, a message or a repr.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from studio.artifacts.base import (
    MANIFEST,
    ArtifactMissing,
    ArtifactStore,
    checked_key,
    digest_in_key,
    manifest_bytes,
    read_manifest,
    sha256_bytes,
    sha256_file,
    tree_manifest,
)
from studio.artifacts.cache import LocalCache
from studio.errors import ConfigError, InputError

PARTIAL = ".partial"


class ObjectArtifactStore(ArtifactStore):
    def __init__(self, url: str, *, cache_dir: Path, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 cache_max_bytes: int | None = None):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket:
            raise ConfigError(f"artifacts_url {url!r}: an object store is s3://bucket or s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self.endpoint_url = endpoint_url
        where = f"{endpoint_url or 'aws'}|{self.url}"
        self.cache_root = Path(cache_dir) / hashlib.sha256(where.encode()).hexdigest()[:16]
        self.cache = LocalCache(self.cache_root, max_bytes=cache_max_bytes)
        self._options = {"endpoint_url": endpoint_url, "region": region, "key": access_key_id,
                         "secret": secret_access_key}
        self._fs = None

    def __repr__(self) -> str:
        return f"ObjectArtifactStore({self.url!r}, endpoint={self.endpoint_url!r})"

    @property
    def fs(self):
        if self._fs is None:
            import s3fs

            options = self._options
            self._fs = s3fs.S3FileSystem(
                key=options["key"], secret=options["secret"], endpoint_url=options["endpoint_url"],
                client_kwargs={"region_name": options["region"]} if options["region"] else {},
                config_kwargs={"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3}},
                skip_instance_cache=True, use_listings_cache=False)
        return self._fs

    def _full(self, key: str) -> str:
        return "/".join(part for part in (self.bucket, self.prefix, checked_key(key)) if part)

    def _relative(self, full: str) -> str:
        base = "/".join(part for part in (self.bucket, self.prefix) if part) + "/"
        return full.removeprefix(base)

    # -- start -----------------------------------------------------------------------------

    def check(self) -> None:
        """Write, read back and delete a small key: reachable, the bucket there, allowed to write."""
        probe = f"{PARTIAL}/check-{uuid.uuid4().hex}"
        where = f"artifact store {self.url}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")
        try:
            self.fs.call_s3("head_bucket", Bucket=self.bucket)    # some stores make a bucket on the first write
            self.fs.pipe_file(self._full(probe), b"studio")
            if self.fs.cat_file(self._full(probe)) != b"studio":
                raise OSError("a key written could not be read back the same")
            self.fs.rm_file(self._full(probe))
        except FileNotFoundError as exc:
            raise ConfigError(f"{where}: the bucket '{self.bucket}' does not exist; create it or fix "
                              "artifacts_url") from exc
        except PermissionError as exc:
            raise ConfigError(f"{where}: access denied ({_one_line(exc)}); check the credentials "
                              "([artifacts] in studio.toml or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)") from exc
        except Exception as exc:       # unreachable endpoint, DNS, TLS, a bad answer
            raise ConfigError(f"{where}: cannot reach it ({type(exc).__name__}: {_one_line(exc)}); check "
                              "the endpoint (AWS_ENDPOINT_URL or [artifacts] endpoint_url) and the network") from exc

    # -- files -------------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        return self.fs.exists(self._full(key))

    def read_bytes(self, key: str) -> bytes:
        cached = self.cache.hit(key)
        if cached is not None:
            try:
                return cached.read_bytes()
            except FileNotFoundError:         # trimmed by another process meanwhile
                pass
        return self.read_stored(key)

    def read_stored(self, key: str) -> bytes:
        try:
            return self.fs.cat_file(self._full(key))
        except FileNotFoundError as exc:
            raise ArtifactMissing(key, self.url) from exc

    def path(self, key: str) -> Path:
        cached = self.cache.hit(key)
        if cached is not None:
            return cached
        data = self.read_stored(key)
        digest = digest_in_key(key)
        if digest is not None and sha256_bytes(data) != digest:
            raise InputError(f"artifact '{key}' in {self.url} does not have the content its key names "
                             "(corrupted in the store); store the file again")
        return self.cache.put_bytes(key, data)

    def put_bytes(self, key: str, data: bytes) -> bool:
        full = self._full(key)
        if self.fs.exists(full):
            return False
        temporary = self._full(f"{PARTIAL}/{uuid.uuid4().hex}")
        self.fs.pipe_file(temporary, data)
        try:
            self.fs.copy(temporary, full)
        finally:
            self.fs.rm_file(temporary)
        self.cache.put_bytes(key, data)
        return True

    def remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self.fs.rm_file(self._full(key))
            except FileNotFoundError:
                pass
            self.cache.forget(key)

    def keys(self, prefix: str) -> Iterator[str]:
        for full in sorted(self.fs.find(self._full(prefix))):
            yield self._relative(full)

    # -- trees -------------------------------------------------------------------------------

    def move_tree_in(self, key: str, staged: Path) -> str:
        key = checked_key(key)
        staged = Path(staged)
        if self.has_tree(key):
            raise FileExistsError(f"{self.url}/{key} already exists; artifact trees are never overwritten")
        files = tree_manifest(staged)
        for relative in files:
            self.fs.put_file(str(staged / relative), self._full(f"{key}/{relative}"))
        manifest = manifest_bytes(files)
        self.fs.pipe_file(self._full(f"{key}/{MANIFEST}"), manifest)     # last: now the tree exists
        (staged / MANIFEST).write_bytes(manifest)
        target = self.cache.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.move(str(staged), str(target))      # this machine has it already
        except OSError:
            shutil.rmtree(staged, ignore_errors=True)
        else:
            self.cache.added(key)
        return key

    def tree(self, key: str) -> Path:
        key = checked_key(key)
        hit = self.cache.hit(key, tree=True)
        if hit is not None:
            return hit
        target = self.cache.path(key)
        try:
            manifest_data = self.fs.cat_file(self._full(f"{key}/{MANIFEST}"))
        except FileNotFoundError as exc:
            raise ArtifactMissing(key, self.url) from exc
        files = read_manifest(manifest_data, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        download = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.download-"))
        try:
            for relative, expected in files.items():
                local = download / relative
                local.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self.fs.get_file(self._full(f"{key}/{relative}"), str(local))
                except FileNotFoundError as exc:
                    raise ArtifactMissing(f"{key}/{relative}", self.url) from exc
                if sha256_file(local) != expected["sha256"]:
                    raise InputError(f"artifact '{key}/{relative}' in {self.url} does not match its manifest "
                                     "(corrupted or changed in the store)")
            (download / MANIFEST).write_bytes(manifest_data)
            if target.exists():            # an incomplete earlier download, or another process won
                if (target / MANIFEST).is_file():
                    return target
                shutil.rmtree(target, ignore_errors=True)
            download.rename(target)
        finally:
            shutil.rmtree(download, ignore_errors=True)
        self.cache.added(key)
        return target

    def remove_tree(self, key: str) -> None:
        try:
            self.fs.rm_file(self._full(f"{key}/{MANIFEST}"))    # first: the tree stops existing
            self.fs.rm(self._full(key), recursive=True)
        except FileNotFoundError:
            pass
        self.cache.forget(key)

    def staging_dir(self, key: str) -> Path:
        self.cache_root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.cache_root, prefix=".staging-"))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
