"""The package's shape, read from its source: no import circles inside `studio/`, and every
import runs down the layers (front doors -> Studio -> jobs -> services -> domain -> storage
-> vocabulary). Reads the files with `ast` (imports inside functions count too; `if
TYPE_CHECKING:` blocks do not), so it runs in milliseconds and names the file at fault."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "studio"

# Top to bottom; a module belongs to the first layer whose prefix it starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("front doors", ("studio.ui", "studio.commands", "studio.cli", "studio.__main__", "studio.tools",
                     "studio.demo_data")),
    ("facade", ("studio.api", "studio.api_reads", "studio.api_models")),
    ("jobs", ("studio.jobs",)),
    ("services", ("studio.services",)),
    ("domain", ("studio.generation", "studio.rewards", "studio.ranking", "studio.exchange", "studio.policy",
                "studio.explore", "studio.training_curve")),
    ("storage", ("studio.store", "studio.artifacts")),
    ("vocabulary", ("studio.records", "studio.config", "studio.contender_spec", "studio.errors", "studio.progress", "studio.splits")),
]
# Arrows allowed against the order, each for a stated reason (docs/architecture.md): none now.
EXCEPTIONS: set[tuple[str, str]] = set()
# The two doors people open: the web UI and the command line's entry. Only they (and the
# entry that starts the command line) may import them; the command modules under `studio/commands/`
# call `Studio` and never start the UI (the UI's own commands live in `studio/ui/commands.py`).
DOORS = ("studio.ui", "studio.cli")
MAY_OPEN_DOORS = ("studio.ui", "studio.cli", "studio.__main__")
# Domain modules take and return plain objects: they never reach the database or the files.
FORBIDDEN = {("domain", "storage")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str) -> set[str]:
    """Every module of the package this file imports (top-level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def graph() -> tuple[dict[str, set[str]], dict[str, Path]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    edges = {}
    for name, path in files.items():
        targets = imports_of(path, name)
        edges[name] = {t for t in targets if t in files and t != name and not name.startswith(t + ".")}
    return edges, files


def layer_of(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_no_import_circle_inside_the_package():
    edges, _ = graph()
    assert circles(edges) == []


def test_every_module_has_a_layer():
    edges, files = graph()
    assert [str(files[m].relative_to(PACKAGE.parent)) for m in edges if m != "studio" and layer_of(m) is None] == []


def test_imports_run_down_the_layers():
    edges, files = graph()
    wrong = []
    for source, targets in sorted(edges.items()):
        here = layer_of(source)
        if here is None:
            continue
        for target in sorted(targets):
            there = layer_of(target)
            if there is None or (source, target) in EXCEPTIONS:
                continue
            if there < here or (LAYERS[here][0], LAYERS[there][0]) in FORBIDDEN:
                wrong.append(f"{files[source].relative_to(PACKAGE.parent)} ({LAYERS[here][0]}) imports "
                             f"{target} ({LAYERS[there][0]})")
    assert wrong == []


def test_the_checker_sees_a_wrong_arrow(tmp_path):
    """The checks above can fail: a circle, and an import hidden in a function, are found."""
    assert circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert layer_of("studio.store.votes") > layer_of("studio.services.voting") > layer_of("studio.api")
    source = tmp_path / "bad.py"
    source.write_text("def f():\n    from studio.services.voting import Voting\n")
    assert "studio.services.voting" in imports_of(source, "studio.store.bad")


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_nothing_but_a_door_imports_the_ui_or_the_command_line():
    edges, files = graph()
    wrong = [f"{files[source].relative_to(PACKAGE.parent)} imports {target}"
             for source, targets in sorted(edges.items()) if not within(source, MAY_OPEN_DOORS)
             for target in sorted(targets) if within(target, DOORS)]
    assert wrong == []
