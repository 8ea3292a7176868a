"""Image ranking tab: four images for one prompt; the rater picks the best and may order
the rest. The facade stores the ranking as pairwise comparisons sharing one group id."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.errors import InputError
from studio.records import ItemView
from studio.ui import render
from studio.ui.context import Context
from studio.ui.keys import STAMP_GRID_JS, shown_js
from studio.ui.pair_view import HIDDEN, Token
from studio.ui.session import RaterSession, counter
from studio.ui.wiring import Panel, named

PREFIX = "grid"
EMPTY = "No image sets are waiting for a ranking."
NO_IMAGES = ("This tab ranks sets of four images for one prompt. It fills when the studio has image "
             "contenders: add one with `studio contenders add NAME --kind image --model PIPELINE` "
             "(or in Settings), and the pool makes image sets for it.")
ALREADY = "You ranked this set before; this ranking was not counted. It is already saved:"
SHOWN = ["grid_prompt", "grid_images", "grid_best", "grid_order", "grid_token"]


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab("Image ranking", id="grid", elem_id="tab-grid") as tab:
        p["grid_prompt"] = gr.HTML(elem_id="grid-prompt")
        p["grid_images"] = gr.HTML(elem_id="grid-images")
        # Hidden by the page's script while there is no grid to rank (no token).
        with gr.Column(elem_id="grid-buttons", elem_classes=["studio-grid-controls"]):
            with gr.Row():
                p["grid_best"] = gr.Radio(["1", "2", "3", "4"], label="Best image", elem_id="grid-best")
                p["grid_order"] = gr.Dropdown(["1", "2", "3", "4"], multiselect=True, elem_id="grid-order",
                                              label="Full order, best first (optional: pick in order)")
            p["grid_submit"] = gr.Button("Submit ranking", variant="primary", elem_id="grid-submit")
        p["grid_reveal"] = gr.HTML(elem_id="grid-reveal")
        p["grid_token"] = gr.Textbox(show_label=False, elem_id="grid-token", elem_classes=[HIDDEN])
        p["grid_decision_ms"] = gr.Number(precision=0, show_label=False, elem_classes=[HIDDEN])
    p["grid_tab"] = tab
    return p


class GridHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def next_grid(self, rater: str) -> dict[str, Any]:
        item = self.ctx.studio.next_item(rater, prompt_set=self.ctx.options.prompt_set, shape="grid")
        shown = show(item, self.ctx)
        if item is None and not self.has_image_contenders():
            shown["grid_prompt"] = render.dry(NO_IMAGES)
        return shown

    def has_image_contenders(self) -> bool:
        frame = self.ctx.studio.contenders()
        return bool(((frame["kind"] == "image") & frame["enabled"].astype(bool)).any()) if not frame.empty else False

    def submit(self, best: str | None, order: list[str] | None, token: str, decision_ms: float | None,
               session: RaterSession, request: gr.Request) -> dict[str, Any]:
        person = self.ctx.person(request, session)
        shown = Token.parse(token)
        ranked = [shown.shown[p] for p in ranking_positions(best, order, len(shown.shown))]
        results = self.ctx.studio.rank(shown.item_id, ranked, rater=person.name, idempotency_key=shown.key,
                                       decision_ms=shown.decision_ms(decision_ms), session_id=session.session_id)
        # One ranking counts as one vote for the rater, however many pairs it implies.
        session = session.counted(results[0].comparison.id, any(r.created for r in results))
        return {**self.next_grid(person.name), "grid_reveal": reveal(results, ranked, self.ctx),
                "counter": counter(session), "session": session}


def ranking_positions(best: str | None, order: list[str] | None, shown: int) -> list[int]:
    """Display positions (0-based), best first: the order picked (led by the best image when
    one is chosen), or the best alone."""
    try:
        chosen = [int(x) - 1 for x in (order or [])]
        top = int(best) - 1 if best else None
    except ValueError as exc:
        raise InputError("pick images by their numbers") from exc
    if top is not None:
        chosen = [top] + [c for c in chosen if c != top]
    if not chosen:
        raise InputError("pick the best image first")
    if any(not 0 <= c < shown for c in chosen):
        raise InputError(f"this grid shows images 1 to {shown}")
    if len(set(chosen)) != len(chosen):
        raise InputError("each image can be placed once")
    return chosen


def reveal(results, ranked: list[int], ctx: Context) -> str:
    """Which contender made each image, in the order the rater ranked them."""
    by_generation: dict[int, int] = {}
    for result in results:
        c = result.comparison
        by_generation[c.left_generation_id] = c.left_contender_id
        by_generation[c.right_generation_id] = c.right_contender_id
    names = ctx.contender_names(*by_generation.values())
    if any(r.duplicate for r in results):       # the first ranking stands: show its order
        ranked = saved_order(results)
        ordered = ", ".join(render.text(names.get(by_generation.get(g), "?")) for g in ranked)
        return f'<div class="studio-reveal-body">{render.text(ALREADY)} {ordered}.</div>'
    ordered = ", ".join(render.text(names.get(by_generation.get(g), "?")) for g in ranked)
    return (f'<div class="studio-reveal-body">Ranking saved ({len(results)} comparisons). '
            f"Your order: {ordered}.</div>")


def saved_order(results) -> list[int]:
    """The generations of a stored ranking, best first (by the comparisons each one won)."""
    wins: dict[int, int] = {}
    for result in results:
        c = result.comparison
        wins.setdefault(c.left_generation_id, 0)
        wins.setdefault(c.right_generation_id, 0)
        if c.outcome in ("left", "right"):
            winner = c.left_generation_id if c.outcome == "left" else c.right_generation_id
            wins[winner] += 1
    return sorted(wins, key=lambda g: -wins[g])


def show(item: ItemView | None, ctx: Context) -> dict[str, Any]:
    # Plain values only (see pair_view.show); the picks are cleared for the next grid.
    if item is None:
        return {"grid_prompt": render.note(EMPTY), "grid_images": "", "grid_best": None, "grid_order": [],
                "grid_token": ""}
    return {"grid_prompt": render.prompt(item.prompt),
            "grid_images": render.grid([s.media_path for s in item.sides]),
            "grid_best": None, "grid_order": [], "grid_token": Token.new(item, with_ids=True).dump()}


def wire(page: Panel, handlers: GridHandlers, ctx: Context) -> None:
    outputs = page.subset(*SHOWN, "grid_reveal", "counter", "session")
    token = page["grid_token"]
    token.change(None, inputs=[token], outputs=None, js=shown_js(PREFIX), queue=False)
    page["grid_submit"].click(
        named(handlers.submit, outputs), inputs=page.pick("grid_best", "grid_order", "grid_token",
                                                          "grid_decision_ms", "session"),
        outputs=list(outputs.values()), js=STAMP_GRID_JS, api_name="grid_rank", concurrency_id="vote",
        concurrency_limit=ctx.options.vote_concurrency, trigger_mode="once", show_progress="hidden")
