"""The feature cache built ahead of training: a head-mode training on the same backbone then
embeds nothing; a build embeds each output once, resumes after a cancel or a killed worker,
and refuses bad input in one line."""

from __future__ import annotations

import random
import signal

import pytest
import torch

from studio.errors import InputError
from studio.jobs import start_worker_process
from studio.records import GenerationIn
from tests.jobs.crash import wait_for
from tests.rewards.helpers import add_marker_votes, sentence, write_marker_pairs


def _embedding(updates) -> list:
    return [u for u in updates if u is not None and u.phase.startswith("embedding")]


def test_a_build_fills_the_cache_that_a_head_training_on_that_backbone_reads(open_sqlite_studio, tiny_backbones):
    decoder = tiny_backbones["decoder"]
    studio = open_sqlite_studio(backbone=decoder, heldout_fraction=0.5)
    add_marker_votes(studio, prompts=12)
    updates = []
    built = studio.build_features(decoder, progress=updates.append)
    # one pair vector per output and one per prompt (12 prompts, 4 outputs each)
    assert (built["items"], built["vectors"], built["embedded"], built["cached_before"]) == (48, 60, 60, 0)
    steps = [u.step for u in updates]
    assert steps == sorted(steps) and steps[-1] == updates[-1].total_steps == 60
    assert updates[-1].eta_s == 0 and all(u.eta_s is not None for u in updates)

    during_training = []
    metrics = studio.train_reward_model(backbone=decoder, progress=during_training.append)
    assert metrics["version"] == 1
    assert _embedding(during_training) == []          # every vector came from the cache

    again = studio.build_features(decoder, progress=False)
    assert (again["embedded"], again["cached_before"]) == (0, 60)
    jobs = studio.jobs(kind="build_features")
    assert jobs["status"].tolist() == ["done", "done"]
    assert "0 embedded now (60 were cached)" in jobs["message"].iloc[0]
    from studio.rewards.net import embedding_precision
    assert again["precision"] == embedding_precision(torch.device("cpu"))        # said, as the cache keys it
    assert jobs["message"].iloc[0].endswith(f"in {again['precision']}")


def test_pairs_files_are_embedded_and_bad_input_is_refused_in_one_line(open_sqlite_studio, tiny_backbones, tmp_path):
    decoder = tiny_backbones["decoder"]
    studio = open_sqlite_studio(backbone=decoder)
    with pytest.raises(InputError, match="no text outputs to embed yet"):
        studio.build_features(decoder, progress=False)
    with pytest.raises(InputError, match="no such file"):
        studio.build_features(decoder, pairs_files=[tmp_path / "missing.jsonl"], progress=False)
    with pytest.raises(InputError, match="name a backbone"):
        studio.build_features("  ", progress=False)
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=5, seed=1)
    built = studio.build_features(decoder, pairs_files=[pairs, pairs], progress=False)
    assert built["items"] == 10 and built["embedded"] == built["vectors"] == 15   # the same file twice: once
    assert studio.jobs(kind="build_features")["status"].tolist()[0] == "done"


def test_a_cancelled_build_keeps_what_it_stored_and_the_next_one_does_the_rest(tiny_backbones, tmp_path):
    from studio.rewards.common import TrainingCancelled, embedding_cache
    from studio.rewards.data import Item, content_key, text_digest
    from studio.rewards.feature_build import fill_cache
    from studio.rewards.net import build_net, make_spec

    rng = random.Random(3)
    items = []
    for n in range(100):
        prompt, text = f"prompt {n % 10}", sentence(rng, 3, 12)
        items.append(Item(key=content_key(prompt, text_digest(text)), prompt=prompt, text=text))
    net = build_net(make_spec(tiny_backbones["decoder"], mode="head", max_length=32))
    cache = embedding_cache(tmp_path / "embeddings", net)
    asked = []

    def stop_after_two_chunks() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(TrainingCancelled, match="they are kept"):
        fill_cache(net, items, cache, should_stop=stop_after_two_chunks, chunk=16)
    assert len(cache) == 32
    rest = fill_cache(net, items, embedding_cache(tmp_path / "embeddings", net), chunk=16)
    assert (rest.vectors, rest.cached_before, rest.embedded) == (110, 32, 78)


@pytest.mark.slow
def test_a_build_whose_worker_is_killed_fails_with_how_to_resume_and_resumes(open_sqlite_studio, tiny_backbones,
                                                                            tmp_path, quick_reaping):
    decoder = tiny_backbones["decoder"]
    studio = open_sqlite_studio(backbone=decoder, queue_url=None, max_length=128)
    contender = studio.add_contender({"name": "ext", "backend": "external"})
    prompt_ids = studio.add_prompts([f"prompt {n}: {sentence(random.Random(n), 3, 8)}" for n in range(100)])
    rng = random.Random(0)
    studio.add_generations([GenerationIn(prompt_id=p, contender_id=contender.id, text=sentence(rng, 40, 90))
                            for p in prompt_ids for _ in range(40)])
    job = studio.build_features(decoder, background=True)
    assert job.status == "queued"
    worker = start_worker_process(studio.config, log_file=tmp_path / "worker.log")
    try:
        def embedding_under_way():
            """the worker to report embedded vectors"""
            current = studio.job(job.id)
            return current.status == "running" and 0 < current.step < (current.total_steps or 0)
        wait_for(embedding_under_way, timeout=120, every=0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.stop()
    total = studio.job(job.id).total_steps

    def failed():
        """the recovery a worker runs to fail the abandoned build"""
        studio.training.recover()
        return studio.job(job.id).status == "failed"
    wait_for(failed, every=1.0)
    assert "run `studio features build` again to resume" in studio.job(job.id).error
    resumed = studio.build_features(decoder, progress=False)
    assert resumed["vectors"] == total == 4_100
    assert resumed["cached_before"] > 0 and resumed["embedded"] == total - resumed["cached_before"]


def test_a_build_embeds_texts_of_about_the_same_length_together(tiny_backbones, tmp_path):
    """Chunks are cut from the texts sorted by length, so little of each forward pass is padding."""
    from studio.rewards.common import embedding_cache
    from studio.rewards.data import Item, content_key, text_digest
    from studio.rewards.feature_build import fill_cache
    from studio.rewards.net import build_net, make_spec

    rng = random.Random(5)
    lengths = [2] * 16 + [30] * 16
    rng.shuffle(lengths)
    texts = [f"{n} " + sentence(rng, k, k) for n, k in enumerate(lengths)]
    items = [Item(key=content_key("p", text_digest(text)), prompt="p", text=text) for text in texts]
    net = build_net(make_spec(tiny_backbones["decoder"], mode="head", max_length=64))
    seen = []
    prepare = net.prepare
    net.prepare = lambda chunk: seen.append([len(i.text.split()) for i in chunk]) or prepare(chunk)
    fill_cache(net, items, embedding_cache(tmp_path / "embeddings", net), chunk=8)
    pair_chunks = [words for words in seen if len(words) == 8]
    assert len(pair_chunks) == 4
    assert all(max(words) - min(words) <= 2 for words in pair_chunks), seen    # short with short, long with long


def test_frozen_backbones_embed_in_bfloat16_on_bf16_cpus_into_a_cache_of_their_own(tiny_backbones, tmp_path,
                                                                                  monkeypatch):
    from studio.errors import ConfigError
    from studio.rewards.common import embedding_cache, head_features
    from studio.rewards.data import Item, content_key, text_digest
    from studio.rewards.net import ENV_EMBED_PRECISION, build_net, embedding_precision, make_spec

    rng = random.Random(7)
    items = []
    for n in range(12):
        text = sentence(rng, 4, 20)
        items.append(Item(key=content_key(f"prompt {n}", text_digest(text)), prompt=f"prompt {n}", text=text))
    net = build_net(make_spec(tiny_backbones["decoder"], mode="head", max_length=48))
    vectors, caches = {}, {}
    for precision in ("float32", "bfloat16"):
        monkeypatch.setenv(ENV_EMBED_PRECISION, precision)
        assert embedding_precision(net._device()) == precision
        caches[precision] = embedding_cache(tmp_path / "embeddings", net)
        vectors[precision] = head_features(net, items, caches[precision])
    assert caches["float32"].directory != caches["bfloat16"].directory      # never mixed in one cache
    assert len(caches["float32"]) == len(caches["bfloat16"]) == 24
    assert vectors["bfloat16"].dtype == vectors["float32"].dtype == torch.float32
    assert not torch.equal(vectors["bfloat16"], vectors["float32"])         # the bf16 path ran
    closeness = torch.nn.functional.cosine_similarity(vectors["bfloat16"], vectors["float32"], dim=-1)
    assert float(closeness.min()) > 0.99

    monkeypatch.setenv(ENV_EMBED_PRECISION, "fp8")
    with pytest.raises(ConfigError, match="set it to float32 or bfloat16"):
        embedding_precision(net._device())
    monkeypatch.delenv(ENV_EMBED_PRECISION)
    native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    expected = "bfloat16" if native else "float32"
    assert embedding_precision(torch.device("cpu")) == expected


def test_a_build_run_again_just_after_its_process_was_killed_takes_over(open_sqlite_studio, tiny_backbones,
                                                                        tmp_path, quick_reaping):
    """Kill `studio features build` and run it again at once: the new build resumes, it is
    not refused because the dead one's last heartbeat is a few seconds old."""
    import socket

    from tests.jobs.test_job_states import a_dead_pid

    decoder = tiny_backbones["decoder"]
    studio = open_sqlite_studio(backbone=decoder)
    key = f"features:{decoder}:{studio.config.training.max_length}"
    with studio.store.transaction() as tx:           # as the killed process left it: running, beat just now
        killed = tx.jobs.create("build_features", {"backbone": decoder, "foreground": True}, active_key=key)
        assert tx.jobs.start(killed.id, f"{socket.gethostname()}:{a_dead_pid()}")
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=3, seed=2)
    built = studio.build_features(decoder, pairs_files=[pairs], progress=False)
    assert built["items"] == 6
    assert studio.job(killed.id).status == "failed"
    assert "stopped (killed or crashed)" in studio.job(killed.id).error
