"""`studio raters`: how far each rater can be trusted; excluding and including them."""

from __future__ import annotations

from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table

raters_app = typer.Typer(help="Raters: `studio raters` lists votes, gold accuracy, agreement with the consensus, "
                              "anomaly p-value, median decision time, too-fast votes and flags; `exclude` and "
                              "`include` leave a rater (or one session) out of every count and back.",
                         invoke_without_command=True)
app.add_typer(raters_app, name="raters")

SessionOption = Annotated[str | None, typer.Option("--session", help="Only this session's votes (its id, as "
                                                                     "`Studio.comparisons()` shows it).")]
SHOWN = ["rater", "votes", "excluded", "gold", "consensus", "anomaly_p", "median_ms", "too_fast", "flags"]


@raters_app.callback()
def raters(ctx: typer.Context, data: DataOption = None, as_json: JsonOption = False) -> None:
    """List every rater, flagged ones first."""
    if ctx.invoked_subcommand is not None:
        return
    with open_studio(data) as studio:
        table = studio.raters()
    if as_json:
        print_json([{k: _plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")])
        return
    print_table([{"rater": r["rater"], "votes": r["votes"], "excluded": _excluded(r),
                  "gold": "" if not r["gold_votes"] else f"{r['gold_accuracy']:.0%} of {r['gold_votes']}",
                  "consensus": _share(r["consensus_agreement"]), "anomaly_p": _p(r["anomaly_p"]),
                  "median_ms": _number(r["median_decision_ms"]), "too_fast": r["too_fast"], "flags": r["reasons"]}
                 for r in table.to_dict(orient="records")], SHOWN)


@raters_app.command("exclude")
def exclude(name: Annotated[str, typer.Argument(help="The rater's name.")], session: SessionOption = None,
            reason: Annotated[str, typer.Option("--reason", help="Why (kept with the exclusion).")] = "",
            data: DataOption = None) -> None:
    """Leave a rater's votes (or one session's) out of leaderboards, agreement, training and
    exports. The votes stay stored; `studio raters include` counts them again."""
    with open_studio(data) as studio:
        changed = studio.exclude_rater(name, session=session, reason=reason)
    what = f"{name}'s session {session}" if session else name
    typer.echo(f"{what} excluded" if changed else f"{what} was already excluded")


@raters_app.command("include")
def include(name: Annotated[str, typer.Argument(help="The rater's name.")], session: SessionOption = None,
            data: DataOption = None) -> None:
    """Count an excluded rater's (or session's) votes again."""
    with open_studio(data) as studio:
        changed = studio.include_rater(name, session=session)
    what = f"{name}'s session {session}" if session else name
    typer.echo(f"{what} counted again" if changed else f"{what} was not excluded")


def _excluded(row) -> str:
    if row["excluded"]:
        return "yes"
    return f"sessions {row['excluded_sessions']}" if row["excluded_sessions"] else ""


def _plain(value):
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _share(value) -> str:
    value = _plain(value)
    return "" if value is None else f"{value:.0%}"


def _p(value) -> str:
    value = _plain(value)
    return "" if value is None else f"{value:.3g}"


def _number(value) -> str:
    value = _plain(value)
    return "" if value is None else f"{value:.0f}"
