"""Property-based: hostile paths given to every CLI argument that takes one. Each command
either does what was asked or stops with an `error: ...` line (no traceback, exit code
non-zero), and a refused command leaves the database as it was. The studio's own files
are never overwritten, even with --force.

The CLI runs in this process through `studio.cli.main` (what the `studio` script calls),
with the arguments a shell would pass: no NUL (argv cannot carry one), invalid UTF-8 as
Python decodes it (lone surrogates U+DC80..U+DCFF).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.reliability.cli import run_cli
from tests.reliability.conftest import hostile_settings

# Stand-ins replaced by real paths made in the fixture.
SPECIAL = ["@FIFO", "@LOOP", "@DIR", "@EMPTY", "@BINARY", "@HUGE_LINE", "@DB", "@WAL", "@MEDIA", "@DATA",
           "@SYMLINK_TO_DB", "@USERS"]
READ_PATHS = ["../../etc/passwd", "/etc/passwd", "/etc/shadow", "/dev/zero", "/dev/urandom", "/proc/self/environ",
              "/", ".", "..", "", " ", "-", "~root/.bashrc", "x" * 5000, "a/" * 2100 + "f.txt",
              "\x1b[31mred.txt", "new\nline.jsonl", "tab\there.csv", "\u202etxt.exe", "bad\udcffutf8.txt",
              "\udce9t\udce9.jsonl", "file:///etc/passwd", "http://127.0.0.1:9/x.jsonl", "C:\\Windows\\win.ini",
              "<script>alert(1)</script>.txt", "$(touch pwned).txt", "`id`.csv", "%2e%2e%2fetc%2fpasswd",
              "*", "?.txt", "{a,b}.txt", "--help", *SPECIAL]
# Writers get only relative names (or the studio's own files): a test must never create
# files outside its temporary folder, and never overwrite a system file.
WRITE_PATHS = ["../../out.jsonl", "sub/../../out.jsonl", "x" * 5000, "a/" * 2100 + "f.jsonl", "",
               "\x1b[31mred.jsonl", "new\nline.jsonl", "\u202etxt.exe", "bad\udcffutf8.jsonl", "@FIFO", "@LOOP",
               "@DIR", "@EMPTY", "@BINARY", "@DB", "@WAL", "@MEDIA", "@DATA", "@SYMLINK_TO_DB", "@USERS"]
ARGV_TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=120)


def relative(text: str) -> str:
    return "./" + text.lstrip("/~")


read_paths = st.one_of(st.sampled_from(READ_PATHS), ARGV_TEXT,
                       st.builds(lambda a, b: a + b, st.sampled_from(READ_PATHS), ARGV_TEXT))
write_paths = st.one_of(st.sampled_from(WRITE_PATHS), ARGV_TEXT.map(relative))

READERS = {
    "import prompts FILE": lambda p: ["import", "prompts", p],
    "import generations FILE": lambda p: ["import", "generations", p],
    "import prefs FILE": lambda p: ["import", "prefs", p],
    "import votes FILE": lambda p: ["import", "votes", p],
    "prompts add FILE": lambda p: ["prompts", "add", p],
    "generate --prompts FILE": lambda p: ["generate", "--contender", "alpha", "--prompts", p],
    "train --pairs FILE": lambda p: ["train", "--pairs", p],
    "train --eval FILE": lambda p: ["train", "--eval", p],
    "users list --file FILE": lambda p: ["users", "list", "--file", p],
    "serve --auth FILE": lambda p: ["serve", "--auth", p, "--no-worker", "--no-pool", "--port", "9"],
}
WRITERS = {
    "export --out PATH": lambda p: ["export", "--format", "jsonl", "--out", p],
    "export --out PATH --force": lambda p: ["export", "--format", "jsonl", "--out", p, "--force"],
    "users add --file PATH": lambda p: ["users", "add", "ana", "--file", p, "--password-stdin"],
}


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A studio with a few rows, special files, and a working directory three levels deep
    (so ../../ stays inside the temporary folder)."""
    from studio.api import Studio
    from studio.contender_spec import ContenderSpec
    from studio.records import GenerationIn

    root = tmp_path_factory.mktemp("hostile-cli")
    data = root / "data"
    with Studio.open(data) as studio:
        contender = studio.add_contender(ContenderSpec(name="alpha", backend="external"))
        other = studio.add_contender(ContenderSpec(name="beta", backend="external"))
        prompt = studio.add_prompts(["an existing prompt"])[0]
        left, right = studio.add_generations([GenerationIn(prompt_id=prompt, contender_id=contender.id, text="a"),
                                              GenerationIn(prompt_id=prompt, contender_id=other.id, text="b")])
        studio.vote(left=left, right=right, outcome="left", rater="r", idempotency_key="k1")
    (data / "media").mkdir(exist_ok=True)
    files = root / "files"
    files.mkdir()
    os.mkfifo(files / "fifo.jsonl")
    (files / "loop.jsonl").symlink_to(files / "loop.jsonl")
    (files / "dir.jsonl").mkdir()
    (files / "empty.txt").write_bytes(b"")
    (files / "binary.jsonl").write_bytes(bytes(range(256)) * 64)
    with open(files / "huge.jsonl", "wb") as huge:      # 64 MiB, one line, sparse on disk
        huge.truncate(64 * 1024 * 1024)
    (files / "db-link.jsonl").symlink_to(data / "studio.db")
    (files / "users.toml").write_text('[users."ana"]\nrole = "admin"\npassword = "scrypt$1$1$1$AA==$AA=="\n')
    special = {"@FIFO": files / "fifo.jsonl", "@LOOP": files / "loop.jsonl", "@DIR": files / "dir.jsonl",
               "@EMPTY": files / "empty.txt", "@BINARY": files / "binary.jsonl", "@HUGE_LINE": files / "huge.jsonl",
               "@DB": data / "studio.db", "@WAL": data / "studio.db-wal", "@MEDIA": data / "media",
               "@DATA": data, "@SYMLINK_TO_DB": files / "db-link.jsonl", "@USERS": files / "users.toml"}
    cwd = root / "work" / "a" / "b"
    cwd.mkdir(parents=True)
    return {"root": root, "data": data, "special": special, "cwd": cwd}


def resolve(path: str, place) -> str:
    for marker, real in place["special"].items():
        path = path.replace(marker, str(real))
    return path


def counts(data_dir: Path) -> dict[str, int]:
    from studio.api import Studio

    with Studio.open(data_dir) as studio:
        return studio.stats()


def without_jobs(stats: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in stats.items() if k != "jobs"}


def check_refused_cleanly(code: int, out: str, err: str) -> None:
    """A refusal is `error: ...` (or a usage error) with a non-zero exit, never a traceback."""
    assert "Traceback" not in out + err, err[-3000:]
    if code != 0:
        assert err.startswith("error: ") or "Usage:" in err + out, (code, out[-500:], err[-1500:])


@pytest.mark.parametrize("entry", list(READERS))
def test_hostile_paths_to_readers_are_refused_or_read_and_write_nothing_on_error(entry, place, tried, monkeypatch):
    monkeypatch.chdir(place["cwd"])
    before = counts(place["data"])

    @hostile_settings(12)
    @given(path=read_paths)
    @example(path="@BINARY")           # found at 100 inputs: a traceback from train --pairs
    @example(path="bad\udcffutf8.txt")  # found at 100 inputs: the failed job could not store its error
    def check(path):
        tried(f"cli: {entry}")
        if entry.startswith("serve") and path == "@USERS":
            return                      # a real users file: the server would start and serve
        code, out, err = run_cli(READERS[entry](resolve(path, place)), place["data"])
        check_refused_cleanly(code, out, err)
        if code != 0:     # (a failed training is kept in the jobs table, as a record of the attempt)
            assert without_jobs(counts(place["data"])) == without_jobs(before), \
                f"{entry} {path!r} failed but wrote to the database"

    check()


@pytest.mark.parametrize("entry", list(WRITERS))
def test_hostile_paths_to_writers_never_touch_the_studios_own_files(entry, place, tried, monkeypatch):
    monkeypatch.chdir(place["cwd"])
    data = place["data"]

    @hostile_settings(12)
    @given(path=write_paths)
    @example(path="@LOOP")             # found at 100 inputs: export traced back on a symlink loop
    @example(path="@WAL")              # found at 100 inputs: users add replaced the WAL file
    def check(path):
        tried(f"cli: {entry}")
        target = resolve(path, place)
        code, out, err = run_cli(WRITERS[entry](target), data, stdin="pw-not-logged\n")
        check_refused_cleanly(code, out, err)
        assert "pw-not-logged" not in out + err
        assert counts(data)["comparisons"] == 1, "the studio's database was replaced or emptied"
        assert (data / "media").is_dir()
        if code == 0:
            assert Path(target).exists(), f"{entry} said it wrote {target!r} but nothing is there"

    check()


def test_hostile_data_dirs_are_opened_or_refused_cleanly(place, tried, monkeypatch):
    monkeypatch.chdir(place["cwd"])

    @hostile_settings(12)
    @given(path=write_paths)
    @example(path="@WAL")              # found at 100 inputs: a folder made there locked the database out
    @example(path="@LOOP")
    @example(path="./")
    def check(path):
        tried("cli: --data DIR")
        code, out, err = run_cli(["stats", "--data", resolve(path, place)], None)
        check_refused_cleanly(code, out, err)

    check()
    assert counts(place["data"])["comparisons"] == 1
