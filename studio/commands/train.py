"""`studio train` and `studio reward-models`: train a reward model on the studio's votes (or
a pairs file) and see the versions."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table


class Mode(StrEnum):
    head = "head"
    full = "full"


class Kind(StrEnum):
    text = "text"
    image = "image"


class Activate(StrEnum):
    if_better = "if_better"
    always = "always"
    never = "never"


SUMMARY = ["version", "kind", "activated", "gate", "heldout_accuracy", "heldout_low", "heldout_high",
           "length_rule_accuracy", "epoch_heldout_accuracy", "heldout_pairs",
           "previous_heldout_accuracy", "train_pairs", "loss", "precision", "pairs_per_s", "wall_s"]


@app.command("train")
def train(
    data: DataOption = None,
    pairs: Annotated[Path | None, typer.Option(
        "--pairs", metavar="FILE", help="Train on this JSON Lines file (TRL's prompt/chosen/rejected) "
                                        "instead of the studio's votes.")] = None,
    eval_file: Annotated[Path | None, typer.Option(
        "--eval", metavar="FILE", help="Measure held-out accuracy on this pairs file instead of the "
                                       "prompts held out of the training data.")] = None,
    backbone: Annotated[str | None, typer.Option(
        "--backbone", metavar="ID|PATH", help="Hub id or local model directory [default: [training] "
                                              "backbone, all-minilm-l6-v2 (offline)].")] = None,
    mode: Annotated[Mode | None, typer.Option(
        "--mode", help="head: frozen backbone with cached embeddings, seconds; full: fine-tune the "
                       "backbone, much slower on CPU [default: [training] mode].")] = None,
    kind: Annotated[Kind | None, typer.Option(
        "--kind", help="Which model: text or image; each trains on the votes on its kind of output only "
                       "[default: the votes' kind; required when there are votes on both].")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Passes over the pairs "
                                               "[default: [training] epochs in head mode, which runs at least "
                                               "enough steps to converge; full_epochs (1) in full mode].")] = None,
    max_pairs: Annotated[int | None, typer.Option("--max-pairs", min=1,
                                                  help="Train on at most this many pairs (the first ones).")] = None,
    max_length: Annotated[int | None, typer.Option("--max-length", min=8, help="Tokens per prompt and "
                                                   "response; the prompt is cut from the left.")] = None,
    activate: Annotated[Activate, typer.Option(
        "--activate", help="if_better: when it passes the activation gate (better than chance and than "
                           "'the longer answer wins' on its held-out votes, each beyond the noise, and not "
                           "worse than the best version so far); always: skip the comparison with the best "
                           "(a model no better than chance or length is never activated); never.")] = Activate.if_better,
    learning_rate: Annotated[float | None, typer.Option(
        "--learning-rate", min=0.0, help="head mode: the head's [default: [training] learning_rate]; full "
                                         "mode: the backbone's [default: 5e-5].")] = None,
    lora_rank: Annotated[int, typer.Option("--lora-rank", min=0, help="full mode: train LoRA adapters of this "
                                           "rank instead of every weight (large backbones).")] = 0,
    train_layers: Annotated[int | None, typer.Option(
        "--train-layers", min=1, help="full mode: fine-tune only the backbone's top N layers; with --lora-rank, "
                                      "LoRA adapters on those layers only, so the backward stops below them.")] = None,
    ensemble: Annotated[int, typer.Option("--ensemble", min=0, help="head mode: train this many heads on "
                                          "bootstrap resamples of the votes, so each score comes with a spread "
                                          "(`score(..., spread=True)`, the arena's prediction, active sampling).")] = 0,
    head_hidden: Annotated[int, typer.Option("--head-hidden", min=0, help="the reward head: 0 a linear layer, "
                                             "N one hidden layer of N units (on hh_mix, 256 over SmolLM2 "
                                             "features scored best: bench/RESULTS.md).")] = 0,
    length_features: Annotated[bool, typer.Option(
        "--length-features/--no-length-features",
        help="head mode: give the head length and shape features beside the embeddings. The encoder reads "
             "only the first max-length tokens while these read the whole text, so best-of-n with them can "
             "favour length: see `studio best-of-n-lengths`.")] = True,
    background: Annotated[bool, typer.Option(
        "--background", help="Queue the training for `studio worker` instead of running it here.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Train a reward model now and print its held-out accuracy, loss, pairs/s and wall time."""
    with open_studio(data) as studio:
        mode_name = mode.value if mode else studio.config.training.mode
        kind_name = kind.value if kind else None
        if background:
            if pairs or eval_file:
                raise typer.BadParameter("--pairs and --eval run in the foreground; drop --background")
            job = studio.enqueue_training(mode=mode_name, kind=kind_name, backbone=backbone, epochs=epochs,
                                          max_pairs=max_pairs,
                                          max_length=max_length, activate=activate.value, requested_by="cli",
                                          learning_rate=learning_rate, lora_rank=lora_rank or None,
                                          train_layers=train_layers, ensemble=ensemble or None,
                                          head_hidden=head_hidden or None, length_features=length_features)
            typer.echo(f"job {job.id}: {job.status} (see `studio jobs`)")
            return
        metrics = studio.train_reward_model(mode=mode_name, kind=kind_name, backbone=backbone, pairs_file=pairs,
                                            eval_file=eval_file, epochs=epochs, max_pairs=max_pairs,
                                            max_length=max_length, activate=activate.value,
                                            progress=None if not as_json else False,
                                            learning_rate=learning_rate, lora_rank=lora_rank or None,
                                            train_layers=train_layers, ensemble=ensemble or None,
                                            head_hidden=head_hidden or None, length_features=length_features)
    if as_json:
        print_json(metrics)
    else:
        print_table([{"metric": key, "value": _shown(metrics.get(key))} for key in SUMMARY if key in metrics])


def _shown(value):
    """A list (held-out accuracy after each epoch) as one short line."""
    if isinstance(value, list):
        return ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)
    return value


@app.command("reward-models")
def reward_models(
    data: DataOption = None,
    activate: Annotated[int | None, typer.Option("--activate", metavar="VERSION",
                                                 help="Make this version the active one first.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Reward-model versions with their held-out accuracy, its 95% interval and the activation
    gate's decision ("passed", or "not better than chance / than length"); the active one is
    marked. Only a version that passed the gate is used (best-of-n, rm-dpo)."""
    with open_studio(data) as studio:
        if activate is not None:
            studio.activate_reward_model(activate)
        frame = studio.reward_models()
    rows = frame.drop(columns=["metrics"]).to_dict(orient="records")
    if as_json:
        print_json(rows)
    else:
        print_table([{k: row[k] for k in ("version", "active", "gate", "kind", "mode", "backbone", "heldout_accuracy",
                                          "heldout_low", "heldout_high", "heldout_pairs", "train_pairs",
                                          "created_at")} for row in rows])


@app.command("best-of-n-lengths")
def best_of_n_lengths(data: DataOption = None, as_json: JsonOption = False) -> None:
    """The length guard: per best-of-n contender, the mean length (characters) of the outputs it
    kept against its base contender's on the same prompts, and how many were fallbacks (no
    reward model that passed the gate). A ratio well above 1 says the reward model may be
    rewarding length: retrain with --no-length-features."""
    with open_studio(data) as studio:
        rows = studio.best_of_n_lengths().to_dict(orient="records")
    if as_json:
        print_json(rows)
    elif not rows:
        typer.echo("no best-of-n contender yet")
    else:
        print_table(rows)
