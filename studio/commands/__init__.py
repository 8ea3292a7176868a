"""Command modules. Each module in this package adds its commands to the root app when
imported; `studio.cli` imports them all (and the web app's own commands from
`studio/ui/commands.py`). Commands are thin: parse, call `Studio`, print."""

from __future__ import annotations

import importlib
import pkgutil

from studio.commands._app import app


def load_all():
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}")
    return app
