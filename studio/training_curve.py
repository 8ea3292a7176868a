"""The learning curve of a reward-model training, recorded as it runs.

    curve = LossCurve()
    metrics = studio.train_reward_model(progress=curve)   # a progress bar, and the curve
    curve.frame()                                         # step, loss, pairs, elapsed_s
    curve.plot(heldout_loss=metrics["heldout_loss"])      # a matplotlib Figure

`train_reward_model` reports every training step to its `progress` callback (the same
updates the background job writes into its row); this keeps the training ones.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHANCE_LOSS = math.log(2)      # Bradley-Terry loss of a model that cannot tell the sides apart


class LossCurve:
    """A `progress=` callback that records each training step's loss and shows a bar
    (`bar=None`: in terminals and notebooks only; False: never)."""

    def __init__(self, *, bar: bool | None = None):
        self.rows: list[dict[str, Any]] = []
        self.show_bar = bar
        self._bar = None
        self._phase = None

    def __call__(self, update) -> None:
        if update.phase == "training" and update.loss is not None:
            self.rows.append({"step": update.step, "loss": update.loss, "pairs": update.pairs,
                              "elapsed_s": update.elapsed_s})
        self._show(update)

    def frame(self) -> pd.DataFrame:
        """One row per training step: step, loss (its batch's), pairs (seen so far), elapsed_s."""
        return pd.DataFrame(self.rows, columns=["step", "loss", "pairs", "elapsed_s"])

    def plot(self, *, heldout_loss: float | None = None, window: int | None = None,
             title: str = "Reward-model training") -> Figure:
        """The loss of each step (faint) and its rolling mean over `window` steps (default:
        a twentieth of the run), the chance level log 2, and the held-out loss if given."""
        from matplotlib.figure import Figure

        frame = self.frame()
        figure = Figure(figsize=(7.0, 3.5), layout="constrained")
        axes = figure.add_subplot()
        if frame.empty:
            axes.text(0.5, 0.5, "no training steps recorded", ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
            return figure
        window = window or max(1, len(frame) // 20)
        axes.plot(frame["step"], frame["loss"], color="tab:blue", alpha=0.25, linewidth=0.8, label="step loss")
        axes.plot(frame["step"], frame["loss"].rolling(window, min_periods=1).mean(), color="tab:blue",
                  label=f"mean of {window} steps" if window > 1 else "loss")
        axes.axhline(CHANCE_LOSS, color="grey", linestyle=":", label="chance (log 2)")
        if heldout_loss is not None and not math.isnan(heldout_loss):
            axes.axhline(heldout_loss, color="tab:orange", linestyle="--", label="held-out loss (end)")
        axes.set_xlabel("training step")
        axes.set_ylabel("Bradley-Terry loss")
        axes.set_title(title)
        axes.legend(loc="upper right", fontsize="small")
        return figure

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _show(self, update) -> None:
        from studio.progress import bar

        if update.phase == "evaluating":
            self.close()
            return
        if self._phase != update.phase or self._bar is None:
            self.close()
            self._bar = bar(total=update.total_steps, desc=update.phase, unit="step", enabled=self.show_bar)
            self._phase = update.phase
        self._bar.total = update.total_steps
        if update.loss is not None:
            self._bar.set_postfix(loss=f"{update.loss:.4f}", refresh=False)
        self._bar.update(update.step - self._bar.n)      # tqdm redraws at most ten times a second
        if update.step >= update.total_steps:
            self.close()
