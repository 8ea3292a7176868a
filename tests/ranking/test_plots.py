"""Plots: each function draws what its table holds and renders without a display."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from studio.ranking import leaderboard, win_rates
from studio.ranking.plots import plot_leaderboard, plot_reward_model_accuracy, plot_win_rates
from tests.ranking.helpers import frame

VOTES = frame(("A", "B", "left"), ("B", "C", "left"), ("A", "C", "tie"), ("C", "A", "right"), ("B", "A", "tie"))


def rendered(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_leaderboard_plot_has_one_row_and_one_interval_per_contender_best_on_top():
    board = leaderboard(VOTES, bootstrap=50)
    figure = plot_leaderboard(board)
    axes = figure.axes[0]
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert labels == list(board.contender[::-1])                  # matplotlib counts from the bottom
    dots = axes.lines[0].get_xdata()
    assert np.allclose(sorted(dots), sorted(board.rating))
    assert rendered(figure).startswith(b"\x89PNG")


def test_heatmap_shows_the_win_rate_table():
    rates = win_rates(VOTES)
    figure = plot_win_rates(rates)
    image = figure.axes[0].images[0].get_array()
    assert image.shape == (3, 3) and image.mask[0, 0] and image[0, 1] == rates.iloc[0, 1]
    assert rendered(figure)


def test_reward_model_accuracy_plot_draws_each_version():
    accuracy = pd.DataFrame({"version": [1, 2, 3], "heldout_accuracy": [0.55, 0.61, 0.64],
                             "vote_accuracy": [np.nan, 0.6, 0.7]})
    axes = plot_reward_model_accuracy(accuracy).axes[0]
    assert list(axes.lines[0].get_ydata()) == [0.55, 0.61, 0.64]
    assert len(axes.lines) == 4                                   # line, held-out dots, votes, coin flip


def test_reward_model_accuracy_plot_shows_intervals_length_and_the_gate():
    accuracy = pd.DataFrame({"version": [1, 2], "heldout_accuracy": [0.52, 0.66], "heldout_low": [0.45, 0.6],
                             "heldout_high": [0.59, 0.72], "length_rule_accuracy": [0.55, 0.56],
                             "gate": ["not better than chance / not better than length", "passed"]})
    axes = plot_reward_model_accuracy(accuracy).axes[0]
    labels = [line.get_label() for line in axes.lines]
    assert "did not pass the activation gate" in labels and "longer answer wins" in labels
    assert axes.collections                                       # the interval bars


def test_empty_tables_give_a_figure_that_says_so():
    empty_board = plot_leaderboard(leaderboard(frame()))
    assert "no votes yet" in empty_board.axes[0].texts[0].get_text()
    empty_models = plot_reward_model_accuracy(pd.DataFrame({"version": [], "heldout_accuracy": []}))
    assert "no reward model yet" in empty_models.axes[0].texts[0].get_text()
    assert rendered(empty_board) and rendered(empty_models)
