"""Settings tab (admins only): the pool and the configuration as tables, contenders (added,
their params edited, enabled and disabled, with the same checks as `studio contenders add`
and studio.toml), prompt sets and raters, adding prompts from a file, and whether raters see
the reward model's guess. Changing server settings means editing `studio.toml` and
restarting the studio the way it was started (`make run`, `studio demo`, `studio serve`)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import gradio as gr
import pandas as pd

from studio.errors import InputError
from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.text_input import MAX_FILTER, one_line_name, typed_text
from studio.ui.wiring import Panel, named

KINDS = ["text", "image"]


def help_text(ctx: Context) -> str:
    return (f"Server settings (analytics, share links, vote concurrency) come from `studio.toml` in the data dir; "
            f"edit it, stop the studio (Ctrl-C) and start it again with `{ctx.options.restart_command}`. "
            "Users are added with `studio users add`.")


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab("Settings", id="settings", visible=False, elem_id="tab-settings") as tab:
        gr.Markdown(help_text(ctx), elem_id="settings-help")
        p["settings_refresh"] = gr.Button("Refresh", size="sm")
        p["settings_pool"] = gr.Dataframe(label="Pool: pairs ready per prompt set, and contenders left out (with why)",
                                          interactive=False, wrap=True, elem_id="settings-pool")
        p["settings_contenders"] = gr.Dataframe(label="Contenders", interactive=False, wrap=True,
                                                elem_id="settings-contenders")
        with gr.Accordion("Add or change a contender", open=False, elem_id="settings-contender-form"):
            with gr.Row():
                p["settings_c_name"] = gr.Textbox(label="Name", elem_id="settings-c-name")
                p["settings_c_model"] = gr.Textbox(label="Model (built-in name, hub id or local path; for adding)",
                                                   elem_id="settings-c-model")
                p["settings_c_kind"] = gr.Radio(KINDS, value="text", label="Kind")
            p["settings_c_params"] = gr.Textbox(label="Params, one key=value a line (e.g. temperature=0.3)",
                                                lines=3, elem_id="settings-c-params")
            with gr.Row():
                p["settings_c_add"] = gr.Button("Add contender", variant="primary", elem_id="settings-c-add")
                p["settings_c_edit"] = gr.Button("Save params", elem_id="settings-c-edit")
                p["settings_c_enable"] = gr.Button("Enable", elem_id="settings-c-enable")
                p["settings_c_disable"] = gr.Button("Disable", variant="stop", elem_id="settings-c-disable")
        p["settings_raters_predictions"] = gr.Checkbox(
            label="Show raters the reward model's guess after each vote (admins always see it; only a model "
                  "that passed the activation gate; until this server stops)", value=False,
            elem_id="settings-raters-predictions")
        p["settings_config"] = gr.Dataframe(label="Configuration in effect", interactive=False, wrap=True,
                                            elem_id="settings-config")
        p["settings_prompt_sets"] = gr.Dataframe(label="Prompt sets", interactive=False)
        p["settings_users"] = gr.Dataframe(label="Raters (users file)", interactive=False)
        with gr.Row():
            p["settings_prompt_file"] = gr.File(label="Add prompts (.txt, .jsonl or .csv)",
                                                file_types=[".txt", ".jsonl", ".csv"])
            p["settings_prompt_set"] = gr.Textbox(label="Prompt set (empty: from the file, or 'default')")
        p["settings_add_prompts"] = gr.Button("Add prompts")
        p["settings_message"] = gr.Markdown(elem_id="settings-message")
    p["settings_tab"] = tab
    return p


class SettingsHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def overview(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        studio = self.ctx.studio
        sets = studio.prompt_sets()
        return {"settings_pool": pool_frame(studio.pool_status(), studio.sampler_status().to_dict()),
                "settings_config": config_frame(studio.config, self.ctx),
                "settings_contenders": contenders_frame(studio.contenders()),
                "settings_prompt_sets": pd.DataFrame({"prompt_set": list(sets), "prompts": list(sets.values())}),
                "settings_users": self.users_frame(),
                "settings_raters_predictions": self.ctx.prediction.raters_see_it}

    def users_frame(self) -> pd.DataFrame:
        users = self.ctx.options.users
        if users is None:
            return pd.DataFrame({"note": ["no users file: raters type their name"]})
        return pd.DataFrame({"name": users.names(), "role": [users.role(n) for n in users.names()]})

    def add_prompts(self, file: str | None, prompt_set: str, session: RaterSession,
                    request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        if not file:
            return {"settings_message": "Choose a file first."}
        summary = self.ctx.studio.import_prompts(file, prompt_set=typed_text(prompt_set, what="the prompt set", limit=MAX_FILTER).strip() or None)
        return {"settings_message": f"{summary.added} prompts added, {summary.existing} already present.",
                "settings_prompt_file": None, **self.overview(session, request)}

    def contender_action(self, action: str):
        def act(name: str, model: str, kind: str, params: str, session: RaterSession,
                request: gr.Request) -> dict[str, Any]:
            self.ctx.admin(request, session)
            studio = self.ctx.studio
            name = one_line_name(name, what="the contender name", limit=100)
            if not name:
                raise InputError("type the contender's name first")
            if action == "add":
                model = one_line_name(model, what="the model", limit=500)
                if not model:
                    raise InputError("type the model: a built-in name (smollm2-135m), a hub id or a local path")
                if kind not in KINDS:
                    raise InputError("the kind is text or image")
                studio.declare_contender(name, model=model, kind=kind, params=parse_params(params))
                done = f"Added contender **{name}** (declared in studio.toml)."
            elif action == "edit":
                record = studio.edit_contender(name, parse_params(params))
                done = f"Saved the params of **{name}** (revision {record.revision})."
            else:
                studio.enable_contender(name, action == "enable")
                done = f"Contender **{name}** is {'enabled' if action == 'enable' else 'disabled'}."
            return {"settings_message": done, **self.overview(session, request)}

        act.__name__ = f"contender_{action}"
        return act

    def raters_predictions(self, on: bool, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        self.ctx.prediction.raters_see_it = bool(on)
        return {"settings_message": "Raters now see the reward model's guess after a vote (a model past the gate)."
                if on else "Only admins see the reward model's guess."}


def parse_params(text: str | None) -> dict[str, Any]:
    """`key=value` lines (values read as `studio contenders add --param` reads them)."""
    from studio.generation.contender_file import parse_param

    params: dict[str, Any] = {}
    for line in typed_text(text, what="the params", limit=10_000).splitlines():
        if line.strip():
            key, value = parse_param(line.strip())
            params[key] = value
    return params


def contenders_frame(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.drop(columns=["created_at"], errors="ignore").copy()
    if "params" in shown:
        shown["params"] = shown["params"].map(params_text)
    return shown


def params_text(params: Any) -> str:
    if not isinstance(params, dict) or not params:
        return "(defaults)"
    return ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in sorted(params.items()))


def pool_frame(pool, sampler: dict[str, Any] | None = None) -> pd.DataFrame:
    """Pairs ready per prompt set, contenders left out (why), and which pair sampler runs."""
    rows = [{"what": f"prompt set {name}", "value": f"{count} pairs ready (keeps {pool.min_ready})"}
            for name, count in pool.ready.items()]
    rows += [{"what": f"left out: {name}", "value": why} for name, why in pool.problems.items()]
    rows += [{"what": f"pair sampler: {key}", "value": str(value)} for key, value in (sampler or {}).items()]
    return pd.DataFrame(rows or [{"what": "pool", "value": "no prompt sets yet"}], columns=["what", "value"])


def config_frame(config, ctx: Context) -> pd.DataFrame:
    summary = config_summary(config, ctx)
    rows = []
    for section, values in summary.items():
        if isinstance(values, dict):
            rows += [{"setting": f"{section}.{key}", "value": str(value)} for key, value in values.items()]
        else:
            rows.append({"setting": section, "value": str(values)})
    return pd.DataFrame(rows, columns=["setting", "value"])


def config_summary(config, ctx: Context) -> dict[str, Any]:
    return {"data_dir": str(config.data_dir), "database": without_password(config.database_url),
            "server": {**dataclasses.asdict(config.server), "host_now": ctx.options.host,
                       "port_now": ctx.options.port, "users_file": bool(ctx.options.users)},
            "pool": dataclasses.asdict(config.pool), "training": dataclasses.asdict(config.training)}


def without_password(url: str) -> str:
    """A database URL safe to show: the password, if any, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def wire(page: Panel, handlers: SettingsHandlers, ctx: Context) -> None:
    shown = page.subset("settings_pool", "settings_config", "settings_contenders", "settings_prompt_sets",
                        "settings_users", "settings_raters_predictions")
    limit = dict(concurrency_id="admin", concurrency_limit=4)
    overview = named(handlers.overview, shown)
    page["settings_refresh"].click(overview, inputs=[page["session"]], outputs=list(shown.values()),
                                   api_name="settings_overview", **limit)
    page["settings_tab"].select(overview, inputs=[page["session"]], outputs=list(shown.values()),
                                api_visibility="private", **limit)
    added = page.subset("settings_message", "settings_prompt_file", *shown)
    page["settings_add_prompts"].click(
        named(handlers.add_prompts, added),
        inputs=[page["settings_prompt_file"], page["settings_prompt_set"], page["session"]],
        outputs=list(added.values()), api_name="settings_add_prompts", **limit)
    changed = page.subset("settings_message", *shown)
    form = page.pick("settings_c_name", "settings_c_model", "settings_c_kind", "settings_c_params")
    for action in ("add", "edit", "enable", "disable"):
        page[f"settings_c_{action}"].click(named(handlers.contender_action(action), changed),
                                           inputs=[*form, page["session"]], outputs=list(changed.values()),
                                           api_name=f"settings_contender_{action}", **limit)
    page["settings_raters_predictions"].input(
        named(handlers.raters_predictions, page.subset("settings_message")),
        inputs=[page["settings_raters_predictions"], page["session"]], outputs=[page["settings_message"]],
        api_name="settings_raters_predictions", **limit)
