"""`studio import ...` and `studio export` from the command line."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import studio


@pytest.mark.slow
def test_import_then_export_with_a_split_from_the_command_line(tmp_path):
    data = tmp_path / "data"
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": f"Q{i}?", "chosen": f"good {i}", "rejected": f"bad {i}"}) + "\n"
                             for i in range(30)))
    imported = studio("import", "prefs", str(pairs), "--data", str(data))
    assert imported.returncode == 0, imported.stderr
    assert "30 pairs added, 0 already present" in imported.stdout
    out = tmp_path / "ds"
    exported = studio("export", "--format", "trl", "--out", str(out), "--split", "test=0.2", "--json",
                      "--data", str(data))
    assert exported.returncode == 0, exported.stderr
    report = json.loads(exported.stdout)
    assert sum(report["rows"].values()) == 30 and set(report["paths"]) == {"train", "test"}
    train = (out / "train.jsonl").read_text().splitlines()
    assert json.loads(train[0])["chosen"].startswith("good")
    again = studio("export", "--format", "trl", "--out", str(out), "--data", str(data))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr


def test_import_commands_report_the_bad_line_and_write_nothing(tmp_path):
    data = tmp_path / "data"
    bad = tmp_path / "outs.jsonl"
    bad.write_text('{"prompt": "P", "contender": "c", "response": "ok"}\n'
                   '{"prompt": "P", "contender": "d", "image": "../../etc/passwd"}\n')
    result = studio("import", "generations", str(bad), "--data", str(data))
    assert result.returncode == 2
    assert "outs.jsonl:2:" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    counts = json.loads(studio("stats", "--json", "--data", str(data)).stdout)
    assert counts["generations"] == 0 and counts["prompts"] == 0
    listed = studio("import", "--help").stdout
    for command in ("prompts", "generations", "prefs", "votes"):
        assert command in listed
