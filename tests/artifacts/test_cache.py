"""A machine's cache of the object store stays under `[artifacts] cache_max_gb`: the least
recently used files and models go first, what is evicted downloads again, and a model in
use is never the one deleted."""

from __future__ import annotations

import os

import pytest

from studio.artifacts.base import MANIFEST
from studio.artifacts.cache import LocalCache
from studio.config import load_config
from studio.errors import ConfigError


def aged(cache: LocalCache, key: str, seconds_ago: float, *, tree: bool = False) -> None:
    """Mark an entry's last use in the past (file times, not sleeps, order the uses)."""
    marker = cache.path(key) / MANIFEST if tree else cache.path(key)
    moment = os.path.getmtime(marker) - seconds_ago
    os.utime(marker, (moment, moment))


def put_tree(cache: LocalCache, key: str, size: int) -> None:
    target = cache.path(key)
    target.mkdir(parents=True)
    (target / "weights.bin").write_bytes(b"w" * size)
    (target / MANIFEST).write_text("{}")
    cache.added(key)


def test_the_least_recently_used_files_go_first_and_a_hit_counts_as_a_use(tmp_path):
    cache = LocalCache(tmp_path / "cache", max_bytes=1000)
    for number, seconds_ago in ((1, 300), (2, 200), (3, 100)):
        cache.put_bytes(f"media/{number}.png", b"x" * 300)
        aged(cache, f"media/{number}.png", seconds_ago)
    assert cache.hit("media/1.png") is not None              # the oldest put, but just read
    cache.put_bytes("media/4.png", b"x" * 300)                # 1200 > 1000: trimmed to 900 or less
    assert cache.hit("media/2.png") is None                    # the least recently used
    assert all(cache.hit(f"media/{n}.png") is not None for n in (1, 3, 4))
    assert cache.size() == 900


def test_a_model_counts_whole_and_the_one_just_added_is_never_evicted(tmp_path):
    cache = LocalCache(tmp_path / "cache", max_bytes=1000)
    cache.put_bytes("media/a.png", b"x" * 100)
    put_tree(cache, "reward-models/v1", 500)
    aged(cache, "reward-models/v1", 100, tree=True)
    put_tree(cache, "reward-models/v2", 2000)                 # bigger than the bound by itself
    assert cache.hit("reward-models/v2", tree=True) is not None     # kept: it is what was asked for
    assert cache.hit("reward-models/v1", tree=True) is None and cache.hit("media/a.png") is None
    assert not (cache.path("reward-models/v1")).exists()
    assert not [p for p in cache.root.rglob("*") if ".deleting-" in p.name]     # renamed away, then gone


def test_downloads_in_progress_are_neither_counted_nor_deleted(tmp_path):
    cache = LocalCache(tmp_path / "cache", max_bytes=100)
    staging = cache.root / ".staging-1"
    staging.mkdir(parents=True)
    (staging / "big.bin").write_bytes(b"s" * 5000)
    cache.put_bytes("media/b.png", b"x" * 50)
    assert staging.is_dir() and cache.hit("media/b.png") is not None and cache.size() == 50


def test_the_bound_comes_from_the_config_and_nonsense_is_refused_in_one_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    assert load_config(data, env={}).artifacts.cache_max_gb == 20.0
    (data / "studio.toml").write_text("[artifacts]\ncache_max_gb = 0.5\n")
    assert load_config(data, env={}).artifacts.cache_max_bytes == 2**29
    for bad in ("0", "-3", '"lots"'):
        (data / "studio.toml").write_text(f"[artifacts]\ncache_max_gb = {bad}\n")
        with pytest.raises(ConfigError, match="cache_max_gb") as raised:
            load_config(data, env={})
        assert "\n" not in str(raised.value)


@pytest.mark.slow
def test_an_object_store_cache_stays_bounded_and_evicted_files_come_back(seaweed_server, tmp_path):
    from studio.artifacts import open_artifacts
    from tests.artifacts.conftest import object_config

    bucket = seaweed_server.new_bucket()
    store = open_artifacts(object_config(tmp_path, seaweed_server, bucket, cache_max_gb=4000 / 2**30))
    images = [bytes([n]) * 1500 for n in range(6)]
    keys = [store.put_media(image)[0] for image in images]
    assert store.cache.size() <= 4000
    assert store.cache.hit(keys[0]) is None                      # the oldest went first
    for key, image in zip(keys, images, strict=True):          # every one still reads, through the cache
        assert store.path(key).read_bytes() == image
        assert store.cache.size() <= 4000
