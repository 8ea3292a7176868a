"""The embedding cache appends, never rewrites; survives a writer killed mid-put; does not
grow when the same texts are scored again; stays under its size bound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import torch

from studio.rewards.embeddings import KEYS, VECTORS, EmbeddingCache

WRITER = """
import sys, torch
from studio.rewards.embeddings import EmbeddingCache
cache = EmbeddingCache(sys.argv[1])
i = 0
while True:
    keys = [f"k{j}" for j in range(i, i + 50)]
    cache.put(keys, torch.arange(i, i + 50, dtype=torch.float32)[:, None].repeat(1, 64))
    i += 50
"""


def _rows(directory) -> int:
    path = directory / KEYS
    return path.read_text().count("\n") if path.exists() else 0


def test_a_writer_killed_mid_put_leaves_a_cache_that_reads_and_grows(tmp_path):
    directory = tmp_path / "cache"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], env=os.environ.copy(),
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _rows(directory) < 2000 and time.monotonic() < deadline and writer.poll() is None:
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL, writer.stderr.read().decode()[-2000:]
    assert _rows(directory) >= 2000
    with (directory / VECTORS).open("ab") as handle:       # a torn tail, as a kill mid-write leaves
        handle.write(b"\x00" * 100)
    with (directory / KEYS).open("a") as handle:
        handle.write("k-partial")
    cache = EmbeddingCache(directory)
    count = len(cache)
    assert count >= 2000 and count % 50 == 0
    found, missing = cache.lookup([f"k{j}" for j in range(count)])
    assert not missing and torch.equal(found[:, 0], torch.arange(count, dtype=torch.float32))
    cache.put(["fresh"], torch.full((1, 64), -1.0))
    again = EmbeddingCache(directory)
    assert len(again) == count + 1 and again.lookup(["fresh"])[0][0, 0] == -1.0
    assert again.lookup(["k-partial"])[1] == ["k-partial"]


def test_scoring_the_same_texts_again_adds_nothing(tmp_path):
    calls = []

    def compute(positions):
        calls.append(len(positions))
        return torch.randn(len(positions), 8)

    keys = [f"text-{i}" for i in range(300)]
    first = EmbeddingCache(tmp_path / "c").get_or_compute(keys, compute)
    size = EmbeddingCache(tmp_path / "c").disk_bytes()
    for _ in range(3):                                     # later processes score the same texts
        again = EmbeddingCache(tmp_path / "c").get_or_compute(keys + keys[:10], compute)
    assert sum(calls) == 300 and EmbeddingCache(tmp_path / "c").disk_bytes() == size
    assert torch.equal(again[:300], first)


def test_the_cache_stays_under_its_bound(tmp_path):
    cache = EmbeddingCache(tmp_path / "c", max_bytes=64 * 4 * 100)
    for start in range(0, 1000, 50):
        cache.put([f"k{j}" for j in range(start, start + 50)], torch.zeros(50, 64))
        assert (tmp_path / "c" / VECTORS).stat().st_size <= 64 * 4 * 100
    assert cache.lookup(["k999"])[1] == [] and cache.lookup(["k0"])[1] == ["k0"]
