"""The Gradio rating studio: `studio serve` and `studio demo` start it.

One module per tab (`arena`, `free_prompt`, `ranking_grid`, `leaderboard`, `training`,
`data`, `settings`), each with a `layout()` that places components, a handlers class of
plain methods that call `Studio` and return updates by component name, and a `wire()` that
connects events. `app.py` assembles them. Nothing here opens a database session or builds
a model: everything goes through the `Studio` facade.
"""
