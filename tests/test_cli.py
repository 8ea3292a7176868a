"""The `studio` command: help, prompts from files, stats, schema upgrades, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.reliability.cli import run_cli


def studio(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """`python -m studio ARGS` in a fresh process: the real entry point, imports and all."""
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "COLUMNS": "120"}, timeout=120)


def studio_here(*args: str) -> subprocess.CompletedProcess:
    """The same command through `studio.cli.main` in this process (no interpreter start, no
    imports again: most tests check what a command does, not how Python starts)."""
    code, out, err = run_cli(list(args))
    return subprocess.CompletedProcess(args, code, out, err)


def test_help_lists_the_commands_and_is_fast():
    started = time.perf_counter()
    result = studio("--help")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    for command in ("db", "prompts", "stats"):
        assert command in result.stdout
    assert "--data" in studio("prompts", "add", "--help").stdout
    assert elapsed < 10  # heavy libraries are not imported for --help (generous bound for slow CI)


def test_prompts_add_then_stats(tmp_path):
    data = tmp_path / "data"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Write a haiku about rain.\n\nExplain recursion to a child.\n")
    result = studio("prompts", "add", str(prompts), "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert "2 prompts added" in result.stdout
    again = studio("prompts", "add", str(prompts), "--data", str(data))
    assert "0 prompts added, 2 already present" in again.stdout
    counts = json.loads(studio("stats", "--json", "--data", str(data)).stdout)
    assert counts["prompts"] == 2 and counts["prompt_sets"] == {"default": 2}


def test_jsonl_and_csv_prompt_files(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "p.jsonl").write_text('{"prompt": "A", "prompt_set": "qa"}\n{"prompt": "B", "tag": "qa", "difficulty": 3}\n')
    (tmp_path / "p.csv").write_text('prompt,topic\n"Say ""hi""",greeting\nC,letters\n')
    assert studio_here("prompts", "add", str(tmp_path / "p.jsonl"), "--data", str(data)).returncode == 0
    assert studio_here("prompts", "add", str(tmp_path / "p.csv"), "--set", "misc", "--data", str(data)).returncode == 0
    counts = json.loads(studio_here("stats", "--json", "--data", str(data)).stdout)
    assert counts["prompt_sets"] == {"misc": 2, "qa": 2}


@pytest.mark.parametrize("name, content, message", [
    ("bad.jsonl", b'{"prompt": "ok"}\n{"prompt": \n', "bad.jsonl:2: not valid JSON"),
    ("bad.jsonl", b'{"prompt": "ok"}\n{"text": "no prompt"}\n', "bad.jsonl:2: missing field 'prompt'"),
    ("bad.jsonl", b'{"prompt": "ok"}\n{"prompt": 5}\n', "bad.jsonl:2: field 'prompt' must be str"),
    ("bad.jsonl", b'{"prompt": "ok"}\n[1, 2]\n', "bad.jsonl:2: expected a JSON object"),
    ("bad.txt", b"fine\nbroken \xff\xfe here\n", "bad.txt:2: invalid UTF-8"),
    ("bad.csv", b"question\nwhat?\n", "bad.csv:2: missing field 'prompt'"),
    ("bad.md", b"# hi\n", "unknown prompt file type '.md'"),
])
def test_a_bad_file_gets_a_one_line_error_and_writes_nothing(tmp_path, name, content, message):
    data = tmp_path / "data"
    path = tmp_path / name
    path.write_bytes(content)
    result = studio_here("prompts", "add", str(path), "--data", str(data))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    counts = json.loads(studio_here("stats", "--json", "--data", str(data)).stdout)
    assert counts["prompts"] == 0


def test_a_missing_file_and_a_bad_url_are_clear(tmp_path):
    missing = studio_here("prompts", "add", str(tmp_path / "none.txt"), "--data", str(tmp_path / "d"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_url = studio_here("stats", "--data", "mysql://nobody/db")
    assert bad_url.returncode != 0 and "unsupported database" in bad_url.stderr


def test_db_upgrade_is_idempotent(tmp_path):
    from studio.store.migrate import head_revision

    first = studio_here("db", "upgrade", "--data", str(tmp_path / "d"))
    second = studio_here("db", "upgrade", "--data", str(tmp_path / "d"))
    assert f"upgraded: empty -> {head_revision()}" in first.stdout
    assert f"already at revision {head_revision()}" in second.stdout


@pytest.mark.postgres
def test_the_cli_works_on_postgresql_by_url(postgres_url, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("One\nTwo\n")
    assert studio_here("prompts", "add", str(prompts), "--data", postgres_url).returncode == 0
    assert json.loads(studio_here("stats", "--json", "--data", postgres_url).stdout)["prompts"] == 2
