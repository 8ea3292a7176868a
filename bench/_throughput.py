"""Sustained votes per second against a running `studio serve`, from lean clients (asyncio
and keep-alive connections, so the client is not what limits the rate):

- `gradio_queue`: the arena's vote event through Gradio's queue, spoken as gradio_client
  speaks it (join, then the session's event stream) - what the page itself does;
- `json_api`: `POST /api/vote` (studio.ui.vote_api), one plain request per vote, each rater
  on its own keep-alive connection speaking HTTP/1.1 directly (`RawHttp`): httpx spends
  about 4 ms of CPU per request, more than the server spends on the vote, and on a 2-core
  machine the clients share the server's cores.

Each simulated rater votes as fast as it is answered, on the pair each answer hands it.
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import orjson

from bench._raters import (
    VOTE_ENDPOINTS,
    GradioApi,
    LeanSession,
    ServeProcess,
    percentiles,
    token_in,
)

OUTCOMES = ("left", "right", "tie", "both_bad")


@dataclass
class Throughput:
    path: str
    raters: int
    votes: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float
    client_cpu_s: float
    errors: int

    @property
    def votes_per_s(self) -> float:
        return self.votes / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        p50, p95, _ = percentiles(self.latencies_ms)
        per_vote = 1000 / max(self.votes, 1)
        return (f"{self.path:<22}{self.raters:>7}{self.votes:>8}{self.votes_per_s:>10.1f}{p50:>9.1f}{p95:>9.1f}"
                f"{self.server_cpu_s * per_vote:>12.2f}{self.client_cpu_s * per_vote:>12.2f}{self.errors:>8}")


HEADER = (f"{'path':<22}{'raters':>7}{'votes':>8}{'votes/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'server CPU':>12}{'client CPU':>12}{'errors':>8}\n{'':<56}{'ms/vote':>12}{'ms/vote':>12}")


async def _gradio_start(http, api, name: str):
    session = LeanSession(http, api)
    return session, token_in(await session.call("start", name))


async def _gradio_rater(session, token, until: float, latencies: list[float], errors: list[int]) -> int:
    done = 0
    while token and time.monotonic() < until:
        started = time.perf_counter()
        try:
            token = token_in(await session.call(random.choice(VOTE_ENDPOINTS).lstrip("/"), token, "", None))
        except Exception:            # noqa: BLE001 - counted and reported
            errors[0] += 1
            break
        latencies.append((time.perf_counter() - started) * 1000)
        done += 1
    return done


class RawHttp:
    """One keep-alive HTTP/1.1 connection that sends small JSON requests and reads
    Content-Length answers: all a load generator needs, at a fraction of httpx's CPU."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def connect(cls, url: str) -> RawHttp:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        payload = orjson.dumps(body) if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n")
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, orjson.loads(await self.reader.readexactly(length)) if length else {}

    def close(self) -> None:
        self.writer.close()


async def _api_start(server_url: str, name: str):
    http = await RawHttp.connect(server_url)
    status, answer = await http.request("GET", f"/api/next?rater={name}")
    return http, name, answer.get("next") if status == 200 else None


async def _api_rater(http: RawHttp, name: str, following, until: float, latencies: list[float],
                     errors: list[int]) -> int:
    done = 0
    try:
        while following and time.monotonic() < until:
            started = time.perf_counter()
            status, answer = await http.request("POST", "/api/vote", {
                "item_id": following["item_id"], "rater": name, "outcome": random.choice(OUTCOMES),
                "idempotency_key": uuid.uuid4().hex})
            if status != 200:
                errors[0] += 1
                break
            latencies.append((time.perf_counter() - started) * 1000)
            following = answer.get("next")
            done += 1
    finally:
        http.close()
    return done


def measure(server: ServeProcess, path: str, raters: int, seconds: float) -> Throughput:
    """`raters` lean raters voting flat out on `path` for `seconds`."""
    async def run() -> Throughput:
        latencies: list[float] = []
        errors = [0]
        limits = httpx.Limits(max_connections=raters * 2 + 8, max_keepalive_connections=raters * 2 + 8)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            names = [f"{path}-{i}" for i in range(raters)]
            if path == "gradio_queue":
                api = GradioApi.fetch(server.url)
                ready = await asyncio.gather(*(_gradio_start(http, api, n) for n in names))
            else:
                ready = await asyncio.gather(*(_api_start(server.url, n) for n in names))
            cpu_before, client_before = server.cpu_seconds(), _own_cpu()
            started = time.monotonic()
            until = started + seconds
            if path == "gradio_queue":
                jobs = [_gradio_rater(session, token, until, latencies, errors) for session, token in ready]
            else:
                jobs = [_api_rater(raw, name, first, until, latencies, errors) for raw, name, first in ready]
            counts = await asyncio.gather(*jobs)
            elapsed = time.monotonic() - started
            return Throughput(path, raters, sum(counts), elapsed, latencies, server.cpu_seconds() - cpu_before,
                              _own_cpu() - client_before, errors[0])

    return asyncio.run(run())


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
