"""`studio` on the command line. Commands live in `studio/commands/`, one module per area."""

from __future__ import annotations

import sys

from studio.commands import load_all
from studio.errors import StudioError


def main() -> None:
    app = load_all()
    try:
        app()
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
