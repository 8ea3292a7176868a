"""Settings tab (admins only): the studio's configuration, contenders, prompt sets and
raters, and adding prompts from a file. Changing server settings (analytics, share links,
the vote concurrency) means editing `studio.toml` and restarting `studio serve`."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import gradio as gr
import pandas as pd

from studio.ui.context import Context
from studio.ui.session import RaterSession
from studio.ui.text_input import MAX_FILTER, typed_text
from studio.ui.wiring import Panel, named

HELP = ("Server settings (analytics, share links, vote concurrency) come from `studio.toml` in the data dir; "
        "edit it and restart `studio serve`. Users are added with `studio users add`.")


def layout(ctx: Context) -> Panel:
    p = Panel()
    with gr.Tab("Settings", id="settings", visible=False, elem_id="tab-settings") as tab:
        gr.Markdown(HELP)
        p["settings_refresh"] = gr.Button("Refresh", size="sm")
        p["settings_pool"] = gr.JSON(label="Pool: ready pairs per prompt set, contenders left out (with why), "
                                           "and which pair sampler runs (and why)")
        p["settings_config"] = gr.JSON(label="Configuration in effect")
        p["settings_contenders"] = gr.Dataframe(label="Contenders", interactive=False)
        p["settings_prompt_sets"] = gr.Dataframe(label="Prompt sets", interactive=False)
        p["settings_users"] = gr.Dataframe(label="Raters (users file)", interactive=False)
        with gr.Row():
            p["settings_prompt_file"] = gr.File(label="Add prompts (.txt, .jsonl or .csv)",
                                                file_types=[".txt", ".jsonl", ".csv"])
            p["settings_prompt_set"] = gr.Textbox(label="Prompt set (empty: from the file, or 'default')")
        p["settings_add_prompts"] = gr.Button("Add prompts")
        p["settings_message"] = gr.Markdown()
    p["settings_tab"] = tab
    return p


class SettingsHandlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def overview(self, session: RaterSession, request: gr.Request) -> dict[str, Any]:
        self.ctx.admin(request, session)
        studio = self.ctx.studio
        contenders = studio.contenders()
        sets = studio.prompt_sets()
        pool = studio.pool_status()
        return {"settings_pool": {"min_ready": pool.min_ready, "ready": pool.ready, "problems": pool.problems,
                                  "sampler": studio.sampler_status().to_dict()},
                "settings_config": config_summary(studio.config, self.ctx),
                "settings_contenders": contenders.drop(columns=["created_at"], errors="ignore"),
                "settings_prompt_sets": pd.DataFrame({"prompt_set": list(sets), "prompts": list(sets.values())}),
                "settings_users": self.users_frame()}

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
    shown = page.subset("settings_pool", "settings_config", "settings_contenders", "settings_prompt_sets", "settings_users")
    overview = named(handlers.overview, shown)
    page["settings_refresh"].click(overview, inputs=[page["session"]], outputs=list(shown.values()),
                                   api_name="settings_overview", concurrency_id="admin", concurrency_limit=4)
    page["settings_tab"].select(overview, inputs=[page["session"]], outputs=list(shown.values()),
                                api_visibility="private", concurrency_id="admin", concurrency_limit=4)
    added = page.subset("settings_message", "settings_prompt_file", *shown)
    page["settings_add_prompts"].click(
        named(handlers.add_prompts, added),
        inputs=[page["settings_prompt_file"], page["settings_prompt_set"], page["session"]],
        outputs=list(added.values()), api_name="settings_add_prompts", concurrency_id="admin",
        concurrency_limit=4)
