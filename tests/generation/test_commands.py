"""`studio contenders add/list` and `studio generate` from the command line."""

from __future__ import annotations

import json
import os
import subprocess

from typer.testing import CliRunner

from studio.api import Studio
from studio.commands import load_all
from studio.config import load_config
from tests.reliability.cli import run_cli


def studio_cli(*args: str) -> subprocess.CompletedProcess:
    """The `studio` command through its entry point `studio.cli.main`, in this process."""
    code, out, err = run_cli(list(args))
    return subprocess.CompletedProcess(args, code, out, err)


def test_contenders_add_appends_to_studio_toml_and_registers(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.toml").write_text("# my studio\n[pool]\nmin_ready = 4\n")
    result = studio_cli("contenders", "add", "terse", "--model", "smollm2-135m", "--param", "temperature=0.3",
                        "--param", "system_prompt=Answer in one sentence.", "--param", "max_new_tokens=48",
                        "--data", str(data))
    assert result.returncode == 0, result.stderr
    text = (data / "studio.toml").read_text()
    assert text.startswith("# my studio\n[pool]\nmin_ready = 4\n")
    (spec,) = load_config(data).contenders
    assert spec.name == "terse" and spec.model == "smollm2-135m"
    assert spec.params == {"temperature": 0.3, "system_prompt": "Answer in one sentence.", "max_new_tokens": 48}
    listed = json.loads(studio_cli("contenders", "list", "--json", "--data", str(data)).stdout)
    assert [row["name"] for row in listed] == ["terse"]


def test_a_bad_contender_is_refused_and_the_file_left_unchanged(tmp_path):
    data = tmp_path / "data"
    assert studio_cli("contenders", "add", "a", "--model", "m", "--data", str(data)).returncode == 0
    before = (data / "studio.toml").read_bytes()
    typo = studio_cli("contenders", "add", "b", "--model", "m", "--param", "temprature=0.5", "--data", str(data))
    assert typo.returncode == 2 and "contender 'b'" in typo.stderr and "params.temprature" in typo.stderr
    assert str(data / "studio.toml") in typo.stderr
    twice = studio_cli("contenders", "add", "a", "--model", "other", "--data", str(data))
    assert twice.returncode == 2 and "declared twice" in twice.stderr
    assert (data / "studio.toml").read_bytes() == before
    assert [os.path.basename(p) for p in data.iterdir() if p.name.endswith(".toml")] == ["studio.toml"]


def test_generate_pre_generates_a_prompt_file(tmp_path, tiny_models):
    data = tmp_path / "data"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Write a haiku about rain.\nExplain recursion to a child.\nName three rivers.\n")
    runner = CliRunner()
    app = load_all()
    added = runner.invoke(app, ["contenders", "add", "tiny", "--model", str(tiny_models["gpt2"]),
                                "--param", "max_new_tokens=6", "--data", str(data)])
    assert added.exit_code == 0, added.output
    result = runner.invoke(app, ["generate", "--contender", "tiny", "--prompts", str(prompts), "--set", "qa",
                                 "--n", "2", "--seed", "9", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "6 outputs of tiny stored for 3 prompts" in result.output
    with Studio.open(data) as studio:
        frame = studio.generations(contender="tiny", prompt_set="qa")
    assert len(frame) == 6 and frame["seed"].nunique() == 6
