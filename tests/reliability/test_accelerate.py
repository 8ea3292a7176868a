"""Reward-model training under `accelerate launch` with two processes (CPU, gloo) gives a
checkpoint that scores like the one a single process trains.

How it is launched on a machine without GPUs: `--multi_gpu` picks Accelerate's torchrun
launcher, and ACCELERATE_USE_CPU=1 makes each process train on the CPU with the gloo
backend (`accelerate launch --cpu` alone runs one process; its multi-CPU mode needs MPI).
On a GPU machine the same command without the variable spreads training over the GPUs.

Tolerance: two processes each take half of every epoch's batches and average their
gradients, i.e. twice the batch for half the steps, so the numbers are not the single
process's. What must hold is the model: every process ends with the same parameters (data
parallel training keeps them in step), the checkpoint reloads to the same rewards, it has
learned the marker (held-out accuracy >= 0.85, where chance is 0.5), within two pairs of the
24 held out of the single process's accuracy (half the steps in full mode leave it a pair or
two behind on some machines: CI saw 22 of 24 against 24), and it orders the held-out outputs
the same way (Spearman correlation of rewards >= 0.9).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import free_port

SCRIPT = Path(__file__).with_name("accelerate_train.py")
ROOT = Path(__file__).resolve().parents[2]
ACCELERATE = Path(sys.executable).with_name("accelerate")
MODES = ("full", "head")

def run(command: list[str], out: Path) -> dict[str, list[dict]]:
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return {mode: [json.loads(p.read_text()) for p in sorted((out / mode).glob("rank-*.json"))] for mode in MODES}


def spearman(a: list[float], b: list[float]) -> float:
    import pandas as pd

    return float(pd.Series(a).corr(pd.Series(b), method="spearman"))


@pytest.mark.slow
def test_two_processes_train_checkpoints_that_score_like_one(tiny_encoder, tmp_path):
    """Head mode (a frozen backbone, the default) and full mode (fine-tuning, what several
    GPUs are for), each in one single-process run and one two-process launch."""
    from studio.rewards.checkpoint import load_net
    from studio.rewards.data import split_by_prompt
    from studio.rewards.train import score_items
    from tests.rewards.helpers import marker_data

    modes = ",".join(MODES)
    single = run([sys.executable, str(SCRIPT), tiny_encoder, modes, str(tmp_path / "one")], tmp_path / "one")
    double = run([str(ACCELERATE), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                  "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
                  str(SCRIPT), tiny_encoder, modes, str(tmp_path / "two")], tmp_path / "two")
    _, heldout = split_by_prompt(marker_data(prompts=24, outputs=4, seed=3), 0.25)
    for mode in MODES:
        (alone,), ranks = single[mode], double[mode]
        assert alone["world"] == 1 and [r["world"] for r in ranks] == [2, 2], mode
        assert ranks[0]["params"] == ranks[1]["params"], f"{mode}: the two processes ended with different parameters"
        assert ranks[0]["rewards"] == pytest.approx(ranks[1]["rewards"], abs=1e-5)
        net, _ = load_net(tmp_path / "two" / mode / "checkpoint")
        assert score_items(net, heldout.items).tolist() == pytest.approx(ranks[0]["rewards"], abs=1e-5), mode
        assert ranks[0]["heldout_accuracy"] >= 0.85, mode
        assert abs(ranks[0]["heldout_accuracy"] - alone["heldout_accuracy"]) <= 2 / 24 + 1e-9, mode
        assert spearman(ranks[0]["rewards"], alone["rewards"]) >= 0.9, mode
