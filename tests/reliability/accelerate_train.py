"""Train a reward model with the studio's training loop, as `accelerate launch` runs it on
several processes (or alone with plain `python`). Used by test_accelerate.py.

    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 \
        tests/reliability/accelerate_train.py BACKBONE head,full OUT

For each mode, every process writes OUT/MODE/rank-N.json: the rewards its copy of the
trained net gives the held-out outputs, and a digest of its trained parameters (data
parallel training must end with the same parameters on every process). The main process
also saves the checkpoint (OUT/MODE/checkpoint) as `studio train` would.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(backbone: str, modes: str, out: Path) -> None:
    for mode in modes.split(","):
        train_one(backbone, mode, out / mode)


def train_one(backbone: str, mode: str, out: Path) -> None:
    import torch
    from accelerate import Accelerator, InitProcessGroupKwargs

    from studio.rewards import checkpoint
    from studio.rewards.data import split_by_prompt
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, score_items, train
    from tests.rewards.helpers import marker_data

    # Made first, so the training loop's own Accelerator shares its state: reads
    # ACCELERATE_USE_CPU, and gives up on a stuck collective after 30 s instead of hanging.
    state = Accelerator(kwargs_handlers=[InitProcessGroupKwargs(timeout=timedelta(seconds=30))])
    data = marker_data(prompts=24, outputs=4, seed=3)
    train_data, heldout = split_by_prompt(data, 0.25)
    spec = make_spec(backbone, kind="text", mode=mode, max_length=32)
    settings = TrainSettings(epochs=4, batch_size=8, learning_rate=5e-4, head_learning_rate=3e-3, seed=0,
                             head_min_steps=120)
    outcome = train(build_net(spec), train_data, heldout, settings, cache_root=None)
    net = outcome.net
    rewards = score_items(net, heldout.items).tolist()
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        if tensor.dtype.is_floating_point:
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().to(torch.float32).numpy().round(5).tobytes())
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank-{state.process_index}.json").write_text(json.dumps({
        "world": state.num_processes, "rewards": rewards, "params": digest.hexdigest(),
        "heldout_accuracy": outcome.metrics.get("heldout_accuracy"), "steps": outcome.metrics.get("steps"),
        "pairs": [[p.left, p.right, p.target] for p in heldout.pairs]}))
    if state.is_main_process:
        checkpoint.save(net, out / "checkpoint", metrics=outcome.metrics)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
