"""`studio` on the command line. Commands live in `studio/commands/`, one module per area."""

from __future__ import annotations

import sys

from studio.commands import load_all
from studio.errors import StudioError


def build_app():
    """The root command: every module of `studio/commands/`, then the web app's commands
    (`studio serve`, `demo`, `users`), which live with the UI in `studio/ui/commands.py`."""
    app = load_all()
    import studio.ui.commands  # noqa: F401  (registers serve, demo and users on the root app)

    return app


def main() -> None:
    app = build_app()
    try:
        app()
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except OSError as exc:
        # A path the system refuses (a name over 255 bytes, a file where a folder should be, no
        # permission): one line naming it, not a traceback. Commands write nothing partial.
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def describe_os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    target = exc.filename if exc.filename is not None else ""
    if exc.filename2 is not None:
        target = f"{target} -> {exc.filename2}"
    return f"{reason}: {target}; check the path and its permissions" if target else f"{reason}; check the paths given"


if __name__ == "__main__":
    main()
