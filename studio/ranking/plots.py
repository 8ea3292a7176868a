"""Matplotlib figures for the leaderboard tab and notebooks, one function each.

Each takes the DataFrame the matching `Studio` method returns and gives back a
`matplotlib.figure.Figure` (no pyplot state, so it works in servers and threads; Jupyter
and Gradio's `gr.Plot` display it as is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from studio.ranking.votes import require_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_leaderboard(board: pd.DataFrame, *, title: str = "Leaderboard") -> Figure:
    """Ratings as dots with their bootstrap interval as bars, best at the top."""
    require_columns(board, ("contender", "rating", "ci_low", "ci_high"), what="plot_leaderboard")
    board = board.sort_values("rating")
    figure = _figure(7.0, max(2.0, 0.3 * len(board) + 1.0))
    axes = figure.add_subplot()
    if board.empty:
        axes.text(0.5, 0.5, "no votes yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    positions = np.arange(len(board))
    rating = board["rating"].to_numpy()
    below = np.nan_to_num(rating - board["ci_low"].to_numpy())
    above = np.nan_to_num(board["ci_high"].to_numpy() - rating)
    axes.errorbar(rating, positions, xerr=[below, above], fmt="o", capsize=3, color="tab:blue",
                  ecolor="tab:gray")
    axes.set_yticks(positions, board["contender"].astype(str))
    axes.set_ylim(-0.7, len(board) - 0.3)
    axes.axvline(1000.0, color="lightgray", linewidth=0.8, zorder=0)
    axes.set_xlabel("rating (Bradley-Terry, 95% bootstrap interval)")
    axes.set_title(title)
    return figure


def plot_win_rates(rates: pd.DataFrame, *, title: str = "Win rate of row against column") -> Figure:
    """Heatmap of a square win-rate table (blank where two contenders never met)."""
    size = len(rates)
    figure = _figure(max(4.0, 0.45 * size + 2.5), max(3.5, 0.45 * size + 1.5))
    axes = figure.add_subplot()
    values = rates.to_numpy(dtype=float)
    image = axes.imshow(np.ma.masked_invalid(values), cmap="RdBu", vmin=0.0, vmax=1.0)
    labels = [str(name) for name in rates.index]
    axes.set_xticks(np.arange(size), [str(name) for name in rates.columns], rotation=60, ha="right")
    axes.set_yticks(np.arange(size), labels)
    if size <= 20:
        for row, column in zip(*np.nonzero(~np.isnan(values)), strict=True):
            axes.text(column, row, f"{values[row, column]:.2f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, shrink=0.8, label="win rate")
    axes.set_title(title)
    return figure


def plot_reward_model_accuracy(accuracy: pd.DataFrame, *, title: str = "Reward model accuracy") -> Figure:
    """Held-out accuracy of each reward-model version with its 95% interval (clustered by
    prompt), the "longer answer wins" rule on the same votes, where recorded its accuracy on
    the human votes it predicted, and the 50% coin-flip line. Versions that did not pass the
    activation gate are drawn hollow."""
    require_columns(accuracy, ("version", "heldout_accuracy"), what="plot_reward_model_accuracy")
    figure = _figure(6.0, 3.5)
    axes = figure.add_subplot()
    if accuracy.empty:
        axes.text(0.5, 0.5, "no reward model yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    frame = accuracy.sort_values("version")
    versions = frame["version"].to_numpy()
    mean = frame["heldout_accuracy"].to_numpy(dtype=float)
    axes.plot(versions, mean, color="tab:blue", linewidth=0.8)
    if {"heldout_low", "heldout_high"} <= set(frame.columns):
        below = np.nan_to_num(mean - frame["heldout_low"].to_numpy(dtype=float))
        above = np.nan_to_num(frame["heldout_high"].to_numpy(dtype=float) - mean)
        axes.errorbar(versions, mean, yerr=[np.clip(below, 0, None), np.clip(above, 0, None)], fmt="none",
                      ecolor="tab:gray", capsize=3)
    passed = (frame["gate"] == "passed").to_numpy() if "gate" in frame.columns else np.ones(len(frame), bool)
    axes.plot(versions[passed], mean[passed], "o", color="tab:blue", label="held-out accuracy (95% interval)")
    if (~passed).any():
        axes.plot(versions[~passed], mean[~passed], "o", markerfacecolor="white", color="tab:blue",
                  label="did not pass the activation gate")
    if "length_rule_accuracy" in frame.columns and frame["length_rule_accuracy"].notna().any():
        axes.plot(versions, frame["length_rule_accuracy"], "x", color="tab:orange", label="longer answer wins")
    if "vote_accuracy" in frame.columns and frame["vote_accuracy"].notna().any():
        axes.plot(frame["version"], frame["vote_accuracy"], marker="s", linestyle="--",
                  label="agreement with human votes")
    axes.axhline(0.5, color="gray", linewidth=0.8, linestyle=":", label="coin flip")
    axes.set_xticks(frame["version"].to_numpy())
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel("version")
    axes.set_ylabel("accuracy")
    axes.legend(loc="lower right")
    axes.set_title(title)
    return figure


def plot_lift(lift: pd.DataFrame, *, title: str = "Improved versions against their parents") -> Figure:
    """Each version's win rate against its parent from human votes, with its 95% interval
    (grey while there are not yet enough votes), and the reward model's prediction as a cross."""
    require_columns(lift, ("contender", "parent", "win_rate", "ci_low", "ci_high", "verdict"), what="plot_lift")
    figure = _figure(7.0, max(2.0, 0.4 * len(lift) + 1.2))
    axes = figure.add_subplot()
    if lift.empty:
        axes.text(0.5, 0.5, "no improved versions yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    positions = np.arange(len(lift))
    rate = lift["win_rate"].to_numpy(dtype=float)
    below = np.nan_to_num(rate - lift["ci_low"].to_numpy(dtype=float))
    above = np.nan_to_num(lift["ci_high"].to_numpy(dtype=float) - rate)
    enough = ~lift["verdict"].astype(str).str.startswith("not yet").to_numpy()
    for mask, colour in ((enough, "tab:blue"), (~enough, "tab:gray")):
        if mask.any():
            axes.errorbar(rate[mask], positions[mask], xerr=[below[mask], above[mask]], fmt="o", capsize=3,
                          color=colour, ecolor=colour)
    if "predicted_win_rate" in lift:
        axes.plot(lift["predicted_win_rate"].to_numpy(dtype=float), positions, "x", color="tab:orange",
                  label="reward model's prediction")
        axes.legend(loc="lower right", fontsize="small")
    labels = [f"{row.contender} vs {row.parent} ({row.votes} votes)" if "votes" in lift else
              f"{row.contender} vs {row.parent}" for row in lift.itertuples()]
    axes.set_yticks(positions, labels)
    axes.set_ylim(-0.7, len(lift) - 0.3)
    axes.set_xlim(0.0, 1.0)
    axes.axvline(0.5, color="lightgray", linewidth=0.8, zorder=0)
    axes.set_xlabel("win rate against the parent (human votes, ties half, 95% Wilson interval)")
    axes.set_title(title)
    return figure
