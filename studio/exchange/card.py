"""The dataset card (README.md) written next to a dataset export: what is in it, where it
came from, how ties and disagreements were handled, and a license field to fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from studio.exchange.formats import Options, handling


@dataclass(frozen=True)
class Overview:
    """What the export read, counted by the database."""

    comparisons: int = 0
    raters: int = 0
    first: datetime | None = None
    last: datetime | None = None
    contenders: dict[str, int] = field(default_factory=dict)    # name -> votes it appears in


def render(*, options: Options, overview: Overview, rows: dict[str, int], filters: dict[str, Any],
           split: dict[str, float], min_agreement: float | None, columns: list[str],
           no_preference: dict[str, int] | None = None) -> str:
    """The card; `no_preference`: how many tie and both-bad votes (or majority pairs) the
    export read, said with what the format did with them."""
    lines = [
        "---",
        'license: ""  # fill in: the license under which these ratings may be shared',
        "pretty_name: Feedback Studio preference export",
        "tags:",
        "- human-feedback",
        "- preference",
        "- feedback-studio",
        "---",
        "",
        "# Human preference data (Feedback Studio export)",
        "",
        f"Exported {_date(datetime.now(UTC))} in the `{options.format}` format "
        f"({'one row per pair, by majority' if options.majority else 'one row per vote'}).",
        "",
        "## Contents",
        "",
        "| split | rows |",
        "|---|---:|",
        *[f"| {name} | {count:,} |" for name, count in rows.items()],
        "",
        f"- Votes read: {overview.comparisons:,} from {overview.raters:,} rater(s)"
        + (f", cast between {_date(overview.first)} and {_date(overview.last)}." if overview.first else "."),
        f"- Columns: {', '.join(f'`{c}`' for c in columns)}.",
        "",
        "## Contenders",
        "",
        "| contender | votes |",
        "|---|---:|",
        *[f"| {_cell(name)} | {votes:,} |" for name, votes in sorted(overview.contenders.items(),
                                                                       key=lambda kv: (-kv[1], kv[0]))],
        "",
        "## How ties and disagreements were handled",
        "",
        *[f"- {line}" for line in _handling(options, min_agreement, no_preference or {})],
        "",
        "## Selection and split",
        "",
        f"- Filters: {_filters(filters)}.",
        f"- Split: {_split(split)}.",
        "",
        "## License",
        "",
        "Fill in the `license` field above before sharing: the ratings are your raters' work, and the",
        "outputs come from the contenders' models, whose licenses may also apply.",
        "",
    ]
    return "\n".join(lines)


def _handling(o: Options, min_agreement: float | None, counts: dict[str, int]) -> list[str]:
    lines = []
    if o.majority:
        lines.append("Votes on the same two outputs were merged: each row holds the outcome most raters chose, "
                     "`votes` (how many voted) and `agreement` (the share that chose that outcome).")
        lines.append("A pair without a single most-voted outcome (e.g. one vote each way) counts as a tie.")
        if min_agreement is not None:
            lines.append(f"Pairs with agreement below {min_agreement:g} were left out.")
    else:
        lines.append("Each vote is its own row: when raters disagreed, rows for the same pair point both ways.")
    if o.format == "kto":
        lines.append("A win makes the winner desirable and the loser undesirable; 'both bad' makes both "
                     "undesirable; ties say nothing about either output and are left out.")
    unit = "pair" if o.majority else "vote"
    for outcome, done in handling(o).items():
        n = counts.get(outcome, 0)
        lines.append(f"{n:,} {_OUTCOME_NAMES[outcome]} {unit}{'' if n == 1 else 's'}: {_DONE[outcome, done]}")
    return lines


_OUTCOME_NAMES = {"tie": "tie", "both_bad": "'both bad'"}
# What a format did with the votes that prefer neither output, as the card says it.
_DONE = {
    ("tie", "kept"): "kept (`outcome` says tie).",
    ("tie", "dropped"): "left out: a row of this format can only say which output is better, and a tie "
                        "must not read as a win.",
    ("tie", "both ways"): "each written as two rows, one each way, with `label` 0.5 and `margin` 0.0, so a "
                          "pairwise loss learns no preference from them (decisive rows: `label` 1.0, "
                          "`margin` 1.0).",
    ("both_bad", "kept"): "kept.",
    ("both_bad", "dropped"): "left out: neither output is preferred, and the order of two bad outputs is not "
                             "known.",
}


def _filters(filters: dict[str, Any]) -> str:
    used = {k: v for k, v in filters.items() if v not in (None, (), [], "")}
    if not used:
        return "none (every vote)"

    def shown(value: Any) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(map(str, value))
        return value.isoformat() if isinstance(value, datetime) else str(value)

    return "; ".join(f"{name} = {_cell(shown(value))}" for name, value in used.items())


def _split(split: dict[str, float]) -> str:
    if not split:
        return "none (one table)"
    held = ", ".join(f"{name} {fraction:g}" for name, fraction in sorted(split.items()))
    return (f"by prompt (a hash of the prompt text, so no prompt is in two splits): {held} of the prompts "
            "held out, the rest in train")


def _date(value: datetime | None) -> str:
    if value is None:
        return "?"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
