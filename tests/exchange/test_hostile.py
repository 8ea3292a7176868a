"""Property-based: malformed and hostile files thrown at every importer. Either the import
stops with one clear line naming the file (and the database is unchanged), or the content
is stored exactly as given, inert (markup and SQL are just text)."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.errors import InputError
from studio.exchange.lines import MAX_LINE_BYTES

SETTINGS = settings(max_examples=6, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NASTY = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE comparisons; --",
         "../../etc/passwd", "\u202eevil", "😀 ünïcödé", "{{7*7}} ${jndi:ldap://x}", "a\r\nb", "\\u0000"]
text = st.one_of(st.sampled_from(NASTY),
                 st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                         min_size=1, max_size=40)).filter(lambda s: s.strip())

# How a line goes wrong; None keeps the file well formed.
MUTATIONS = [None, "bad_json", "not_object", "missing", "wrong_type", "nul", "surrogate", "bad_utf8", "huge",
             "nan"]
_counter = itertools.count()


def good_rows(kind, texts):
    rows = []
    for i, (a, b) in enumerate(zip(texts[::2], texts[1::2], strict=False)):
        if kind == "prompts":
            rows.append({"prompt": a})
        elif kind == "votes":
            rows.append({"prompt": a, "response_a": b, "response_b": b + "!", "model_a": "m1", "model_b": "m2",
                         "winner": "model_a", "judge": f"j{i}", "rationale": a})
        elif kind == "prefs":
            rows.append({"prompt": a, "chosen": b, "rejected": b + " (worse)"})
        else:
            rows.append({"prompt": a, "contender": "c1", "response": b})
    return rows


REQUIRED = {"prompts": "prompt", "votes": "winner", "prefs": "chosen", "generations": "prompt"}


def encode(rows, kind, mutation, position):
    lines = [json.dumps(r).encode() for r in rows]
    if mutation is not None:
        row = dict(rows[position % len(rows)])
        key = REQUIRED[kind]
        if mutation == "bad_json":
            line = json.dumps(row).encode()[:-2]
        elif mutation == "not_object":
            line = b'["a", 1]'
        elif mutation == "missing":
            row.pop(key)
            line = json.dumps(row).encode()
        elif mutation == "wrong_type":
            row[key] = [1, {"x": None}]
            line = json.dumps(row).encode()
        elif mutation == "nul":
            row[key] = "be\x00fore"
            line = json.dumps(row).encode()
        elif mutation == "surrogate":
            line = json.dumps(row).encode().replace(b'"' + key.encode() + b'": "', b'"' + key.encode() + b'": "\\udc80', 1)
            if line == json.dumps(row).encode():       # the field was not a string: make it one
                row[key] = "x"
                line = json.dumps(row).encode().replace(b'": "x"', b'": "\\ud800x"')
        elif mutation == "bad_utf8":
            line = json.dumps(row).encode()[:-1] + b', "z": "\xff\xfe"}'
        elif mutation == "huge":
            line = b'{"prompt": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}'
        else:
            line = json.dumps(row).encode()[:-1] + b', "seed": NaN, "label": NaN, "decision_ms": NaN}'
        lines.insert(position % (len(lines) + 1), line)
    return b"\n".join(lines) + b"\n"


def check(studio, tmp_path, kind, rows, mutation, position, importer):
    path = tmp_path / f"{kind}-{next(_counter)}.jsonl"
    path.write_bytes(encode(rows, kind, mutation, position))
    before = studio.stats()
    try:
        importer(path)
    except InputError as error:
        message = str(error)
        assert mutation is not None, message
        assert path.name in message and "\n" not in message
        assert studio.stats() == before          # nothing written
        return None
    assert mutation is None, f"{mutation} was accepted"
    return path


@pytest.mark.parametrize("mutation", MUTATIONS)
@pytest.mark.parametrize("kind", ["prompts", "votes", "prefs", "generations"])
@SETTINGS
@given(texts=st.lists(text, min_size=2, max_size=8), position=st.integers(0, 10))
def test_every_importer_refuses_malformed_lines_and_stores_the_rest_inert(sqlite_studio, tmp_path, kind, texts,
                                                                         mutation, position):
    studio = sqlite_studio
    rows = good_rows(kind, texts)
    importer = {"prompts": studio.import_prompts, "votes": studio.import_votes, "prefs": studio.import_prefs,
                "generations": studio.import_generations}[kind]
    if check(studio, tmp_path, kind, rows, mutation, position, importer) is None:
        return
    if kind in ("prompts", "generations"):
        stored = set(studio.generations().text) if kind == "generations" else None
        prompts = {p.text for p in _prompts(studio)}
        assert {r["prompt"].strip() for r in rows} <= prompts
        if stored is not None:
            assert {r["response"] for r in rows} <= stored
    else:
        frame = studio.comparisons()
        assert {r["prompt"].strip() for r in rows} <= set(frame.prompt)
        texts_stored = set(frame.left_text) | set(frame.right_text)
        answers = [r.get("response_a", r.get("chosen")) for r in rows]
        assert set(answers) <= texts_stored


def _prompts(studio):
    with studio.store.reader() as tx:
        return tx.prompts.list()


@settings(SETTINGS, max_examples=25)
@given(image=st.one_of(
    st.sampled_from(["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "images/../../x.png",
                     "C:\\x.png", "", " ", "images/\x00.png", "images", "link.png", "images/ok.png/.."]),
    st.text(max_size=20).map(lambda s: "../" + s)))
def test_image_paths_that_leave_the_folder_are_refused(sqlite_studio, tmp_path, image):
    from tests.exchange.conftest import png_bytes

    folder = tmp_path / "upload"
    if not folder.exists():
        (folder / "images").mkdir(parents=True)
        (folder / "images" / "ok.png").write_bytes(png_bytes((5, 5, 5)))
        (tmp_path / "x.png").write_bytes(png_bytes((6, 6, 6)))
        (folder / "link.png").symlink_to(tmp_path / "x.png")
    path = folder / f"g-{next(_counter)}.jsonl"
    path.write_text(json.dumps({"prompt": "P", "contender": "painter", "image": image}) + "\n")
    with pytest.raises(InputError) as error:
        sqlite_studio.import_generations(path)
    assert path.name in str(error.value) and "\n" not in str(error.value)
    assert sqlite_studio.stats()["generations"] == 0
    assert not (sqlite_studio.config.data_dir / "media").exists()
