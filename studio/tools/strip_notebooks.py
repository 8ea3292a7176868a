"""Remove outputs and execution counts from Jupyter notebooks, so they go into git clean.

    python -m studio.tools.strip_notebooks                 # every notebook under notebooks/
    python -m studio.tools.strip_notebooks a.ipynb b.ipynb
    python -m studio.tools.strip_notebooks --check         # exit 1 if any carries outputs

Cells, their ids, sources, tags and the notebook's kernel metadata are kept; per-cell
run metadata (timings, collapsed or scrolled state) and saved widget state go. The file is
written in nbformat's own layout (one-space indent, sorted keys), so a clean notebook
rewrites byte for byte the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def stripped(notebook: dict[str, Any]) -> dict[str, Any]:
    """A copy of a notebook (as parsed JSON) with no outputs, counts or run metadata."""
    clean = json.loads(json.dumps(notebook))
    clean.get("metadata", {}).pop("widgets", None)
    for cell in clean.get("cells", []):
        metadata = cell.get("metadata", {})
        for key in RUN_METADATA:
            metadata.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return clean


def render(notebook: dict[str, Any]) -> str:
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def strip_file(path: Path, *, check: bool = False) -> bool:
    """Strip one notebook in place (or only look, with `check`); True when it was not clean."""
    text = path.read_text(encoding="utf-8")
    clean = render(stripped(json.loads(text)))
    if clean == text:
        return False
    if not check:
        path.write_text(clean, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.tools.strip_notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="notebooks or folders to strip (default: the notebooks/ folder here)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit with status 1 when a notebook carries outputs")
    args = parser.parse_args(argv)
    targets = args.paths or [Path("notebooks")]
    notebooks = sorted({p for t in targets for p in (t.rglob("*.ipynb") if t.is_dir() else [t])
                        if ".ipynb_checkpoints" not in p.parts})
    if not notebooks:
        print(f"no notebooks found in {', '.join(map(str, targets))}", file=sys.stderr)
        return 2
    dirty = [p for p in notebooks if strip_file(p, check=args.check)]
    for path in dirty:
        print(f"{'has outputs' if args.check else 'stripped'}: {path}")
    return 1 if dirty and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
