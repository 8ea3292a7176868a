"""What the rating benchmarks (and tests/reliability) share: a warm pool made through the
`Studio` API, `studio serve` in a child process, and simulated raters.

Two kinds of rater:
- `gradio_rater`: a `gradio_client.Client` per rater, as a script would drive the app; it
  survives a server restart by signing in again and resending its unacknowledged vote with
  the same token (so the same idempotency key).
- `LeanSession`: Gradio's own queue protocol spoken directly with httpx (join, then read
  the session's event stream), about what `gradio_client` sends, without its per-call
  thread pools and fresh connections; for measuring the server rather than the client.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VOTE_ENDPOINTS = ("/arena_vote_a", "/arena_vote_b", "/arena_vote_tie", "/arena_vote_both_bad")
WORDS = "the quick brown fox jumps over a lazy dog while rain falls on the quiet town".split()


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 (NaN when empty)."""
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the warm pool -------------------------------------------------------------------------

def write_studio_toml(data_dir: Path, database_url: str | None) -> None:
    """Point a data dir at a database URL (PostgreSQL), so `--data DIR` serves it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if database_url:
        (data_dir / "studio.toml").write_text(f"[studio]\ndatabase_url = {json.dumps(database_url)}\n")


def warm_pool(data_dir: Path, pairs: int, *, database_url: str | None = None, prompt_set: str = "bench",
              seed: int = 0) -> int:
    """A studio with `pairs` ready pairs of stored texts from two external contenders, made
    the way a user brings outputs generated elsewhere (`Studio.import_generations`); no
    model runs. Returns the number of pairs made."""
    from studio.api import Studio

    write_studio_toml(data_dir, database_url)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{prompt_set}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for i in range(pairs):
                responses = {name: " ".join(rng.choices(WORDS, k=60)) + f" ({name} {i})"
                             for name in ("stored-a", "stored-b")}
                out.write(json.dumps({"prompt": f"Bench prompt {i}: explain topic {i} in two sentences.",
                                      "responses": responses}) + "\n")
        with Studio.open(data_dir) as studio:
            return studio.import_generations(path, prompt_set=prompt_set, progress=False).items


# -- `studio serve` in a child process ---------------------------------------------------------

class ServeProcess:
    """`studio serve --no-worker --no-pool` on a loopback port, as a user starts it; its
    output goes to `log` (read it to check what the server printed)."""

    def __init__(self, data_dir: Path, *, port: int | None = None, auth: Path | None = None,
                 log: Path | None = None, extra: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.auth = auth
        self.log = log or data_dir / "serve.log"
        self.extra = extra
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> ServeProcess:
        command = [sys.executable, "-m", "studio", "serve", "--data", str(self.data_dir), "--port", str(self.port),
                   "--no-worker", "--no-pool", *self.extra]
        if self.auth:
            command += ["--auth", str(self.auth)]
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        self.started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_serving(self, timeout: float = 180.0) -> float:
        """Seconds from start until the page answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"studio serve exited with {self.process.returncode}: {self.tail()}")
            try:
                if httpx.get(self.url, timeout=5, follow_redirects=True).status_code == 200:   # (or /login)
                    return time.monotonic() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"studio serve did not answer within {timeout}s: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a power cut of the process."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system, all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


# -- what raters send and receive ----------------------------------------------------------------

def token_in(result) -> str | None:
    """The pair token in an arena response (None when no pair is on screen)."""
    for value in result if isinstance(result, list | tuple) else [result]:
        if isinstance(value, str) and value.startswith('{"item"'):
            return value
    return None


def token_key(token: str) -> tuple[int, str]:
    data = json.loads(token)
    return int(data["item"]), str(data["key"])


@dataclass
class Ledger:
    """What raters sent and what the server acknowledged, by idempotency key."""

    sent: dict[str, tuple[str, int]] = field(default_factory=dict)       # key -> (rater, item)
    acknowledged: set[str] = field(default_factory=set)
    resent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, key: str, rater: str, item: int) -> None:
        with self.lock:
            self.sent[key] = (rater, item)

    def ack(self, key: str, latency_ms: float | None) -> None:
        with self.lock:
            self.acknowledged.add(key)
            if latency_ms is not None:
                self.latencies_ms.append(latency_ms)

    def retry(self) -> None:
        with self.lock:
            self.resent += 1

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    @property
    def acked(self) -> int:
        with self.lock:
            return len(self.acknowledged)


class ServerGone(Exception):
    """The server stopped answering (killed, restarting)."""


def connect(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def call(client, *args, api_name: str, timeout: float):
    """A gradio_client call that gives up when the server vanishes (a killed server leaves
    the client's event stream waiting forever)."""
    from gradio_client.exceptions import AppError

    job = client.submit(*args, api_name=api_name)
    try:
        return job.result(timeout=timeout)
    except AppError:
        raise
    except Exception as exc:            # connection refused/reset, stream broken, timed out
        raise ServerGone(f"{type(exc).__name__}: {exc}") from exc


def sign_in(url: str, name: str, *, deadline: float, timeout: float):
    """A client that entered its rater name (no users file), and its first pair token;
    retried until the server answers or the deadline passes."""
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:      # cheap: is it serving yet?
                client = connect(url)
                return client, token_in(call(client, name, api_name="/start", timeout=timeout))
        except Exception as exc:         # noqa: BLE001 - the server is down or half up: try again
            if time.monotonic() > deadline:
                raise ServerGone(f"{name}: no server before the deadline ({exc})") from exc
        if time.monotonic() > deadline:
            raise ServerGone(f"{name}: the server did not serve the page before the deadline")
        time.sleep(0.5)


def gradio_rater(url: str, name: str, votes: int, deadline: float, seed: int, ledger: Ledger, *,
                 think: float = 0.0, call_timeout: float = 20.0,
                 recover_until: float | None = None, on_vote: Callable[[float], None] | None = None) -> None:
    """Vote `votes` times (or until `deadline`) on the pairs the server hands out, through
    gradio_client. When the server goes away mid-vote, sign in again once it is back and
    resend the same token until it is acknowledged (up to `recover_until`). `on_vote` is
    called after each acknowledgement with the time (monotonic) its successful send began."""
    rng = random.Random(seed)
    recover_until = recover_until or deadline + 120
    client, token = sign_in(url, name, deadline=recover_until, timeout=call_timeout)
    done = 0
    try:
        while token and done < votes and time.monotonic() < deadline:
            if think:
                time.sleep(rng.uniform(0.5, 1.5) * think)
            item, key = token_key(token)
            endpoint = rng.choice(VOTE_ENDPOINTS)
            ledger.send(key, name, item)
            started = time.perf_counter()
            while True:
                attempt = time.monotonic()
                try:
                    result = call(client, token, "", None, api_name=endpoint, timeout=call_timeout)
                    break
                except ServerGone:
                    ledger.retry()
                    client.close()
                    client, _ = sign_in(url, name, deadline=recover_until, timeout=call_timeout)
                    started = None
            ledger.ack(key, (time.perf_counter() - started) * 1000 if started is not None else None)
            done += 1
            if on_vote:
                on_vote(attempt)
            token = token_in(result)
    except Exception as exc:           # noqa: BLE001 - reported, and the run fails its checks
        ledger.error(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        client.close()


# -- a lean client: Gradio's queue protocol over one keep-alive connection ------------------------------

class GradioApi:
    """The app's events by api name: their fn_index and where gr.State inputs go."""

    def __init__(self, config: dict):
        self.events: dict[str, tuple[int, list[bool]]] = {}
        states = {c["id"] for c in config["components"] if c.get("type") == "state"}
        for index, dependency in enumerate(config["dependencies"]):
            name = dependency.get("api_name")
            if name:
                self.events[name] = (dependency.get("id", index), [i in states for i in dependency["inputs"]])

    @classmethod
    def fetch(cls, url: str, cookies=None) -> GradioApi:
        return cls(httpx.get(url.rstrip("/") + "/config", cookies=cookies, timeout=30).json())

    def payload(self, api_name: str, values: list, session_hash: str) -> dict:
        fn_index, is_state = self.events[api_name.lstrip("/")]
        values = list(values)
        data = [None if state else values.pop(0) for state in is_state]
        return {"data": data, "fn_index": fn_index, "trigger_id": None, "session_hash": session_hash,
                "event_data": None}


class LeanSession:
    """One rater's page session spoken over raw HTTP (async)."""

    def __init__(self, http: httpx.AsyncClient, api: GradioApi):
        self.http = http
        self.api = api
        self.session_hash = uuid.uuid4().hex[:11]

    async def call(self, api_name: str, *values) -> list:
        joined = await self.http.post("gradio_api/queue/join", json=self.api.payload(api_name, list(values),
                                                                                     self.session_hash))
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        async with self.http.stream("GET", "gradio_api/queue/data",
                                    params={"session_hash": self.session_hash}) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success", False):
                        raise RuntimeError(output.get("error") or "the event failed")
                    return output.get("data", [])
        raise RuntimeError("the event stream closed before the event completed")
