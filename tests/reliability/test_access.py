"""Access at the HTTP level with a users file: every route the server has, called without
signing in, gives nothing of the studio away and changes nothing; a signed-in rater is
refused by every admin handler, named or not; files come only from the media folder,
whatever the path tricks; passwords never reach a log or a file."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bench._raters import ServeProcess
from tests.ui.conftest import add_contenders, add_image_item, serve

SECRETS = ("SECRET-PROMPT-5f1c", "SECRET-OUTPUT-A-9d2e", "SECRET-OUTPUT-B-0b7a", "contender-q7x", "contender-z3k")
ADMIN_HANDLERS = ("TrainingHandlers", "DataHandlers", "SettingsHandlers")
# Shown to anyone by design: the login page and the static files it needs.
PUBLIC = re.compile(r"^/(|login/?|logout|favicon\.ico|robots\.txt|manifest\.json|theme\.css|pwa_icon.*|"
                    r"(assets|static|svelte)/.*|gradio_api/(theme\.css|startup-events|app_id/?|token/?|user/?|"
                    r"login_check/?|heartbeat/.*))$")


def add_secret_pair(studio):
    from studio.records import GenerationIn

    first, second = add_contenders(studio, "contender-q7x", "contender-z3k")
    prompt = studio.add_prompts([SECRETS[0]])[0]
    left, right = studio.add_generations([GenerationIn(prompt_id=prompt, contender_id=first.id, text=SECRETS[1]),
                                          GenerationIn(prompt_id=prompt, contender_id=second.id, text=SECRETS[2])])
    with studio.store.transaction() as tx:           # as the pool would make it
        tx.items.create(prompt, [left, right], source="test")


@pytest.fixture
def gated(ui_studio, users_file):
    from studio.ui.auth import Users

    add_secret_pair(ui_studio)
    add_image_item(ui_studio, "A picture", [(10, 20, 30), (200, 100, 50)], names=("img-a", "img-b"))
    server = serve(ui_studio, users=Users.load(users_file))
    yield server
    server.close()


def bounded(client: httpx.Client, method: str, url: str, body) -> tuple[httpx.Response, bytes]:
    """The answer and at most its first 1 MiB or 3 seconds of body (event streams never end)."""
    content = b""
    with client.stream(method, url, json=body) as answer:
        started = time.monotonic()
        try:
            for chunk in answer.iter_bytes():
                content += chunk
                if len(content) > 1 << 20 or time.monotonic() - started > 3:
                    break
        except httpx.ReadTimeout:           # an event stream with nothing to say yet
            pass
    return answer, content


def all_routes(routes, prefix: str = ""):
    """(path, methods) of every route, including those of routers included with a prefix
    (Gradio puts most of its own under /gradio_api)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from all_routes(included.routes, prefix + route.include_context.prefix)
        elif getattr(route, "path", None) and getattr(route, "methods", None):
            yield prefix + route.path, sorted(route.methods)


def concrete(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{([a-z_]+)(:path)?}", lambda m: values.get(m.group(1), "x"), path)


def test_without_signing_in_no_route_gives_anything_away_or_changes_anything(gated):
    app = gated.demo.server_app
    studio = gated.studio
    db = studio.config.data_dir / "studio.db"
    media = next((studio.config.data_dir / "media").rglob("*.png"))
    values = {"path_or_url": str(media), "path": str(db), "api_name": "arena_vote_a", "event_id": uuid.uuid4().hex,
              "session_hash": "x", "url_path": "http://127.0.0.1:9/", "key": "x", "size": "192"}
    before = studio.stats()
    checked = []
    with httpx.Client(base_url=gated.url.rstrip("/"), timeout=httpx.Timeout(30, read=2)) as anonymous:
        for path, methods in all_routes(app.routes):
            url = concrete(path, values)
            for method in methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                body = {"data": ["x", "", None, None], "fn_index": 4, "session_hash": "x", "event_data": None}
                answer, content = bounded(anonymous, method, url, body if method == "POST" else None)
                leaked = [s for s in SECRETS if s.encode() in content]
                assert not leaked, f"{method} {url} ({answer.status_code}) shows {leaked}"
                assert content != media.read_bytes() and db.read_bytes()[:100] not in content, f"{method} {url}"
                if not PUBLIC.match(path) and answer.status_code < 400 and answer.status_code not in (301, 302, 307):
                    # An open route must say nothing of the app: no config, no components, no data.
                    assert not re.search(rb'"(components|dependencies|data|output)"\s*:', content), \
                        f"{method} {url} answered {answer.status_code}: {content[:300]!r}"
                checked.append(f"{method} {path}")
    assert studio.stats() == before
    assert len(checked) > 40                       # every Gradio route, not a hand-picked few
    assert any(c.endswith("/api/vote") for c in checked) and any("/gradio_api/file=" in c for c in checked)


def test_a_signed_in_rater_is_refused_by_every_admin_handler(gated):
    """All of them, by fn_index, including the private ones (tab selects, timers) that the
    page calls and a hand-written client could call too."""
    from bench._raters import GradioApi

    admin_fns = [index for index, fn in gated.demo.fns.items()
                 if type(getattr(getattr(fn.fn, "__wrapped__", fn.fn), "__self__", None)).__name__ in ADMIN_HANDLERS]
    assert len(admin_fns) >= 8
    with httpx.Client(base_url=gated.url, timeout=60) as rita:
        assert rita.post("/login", data={"username": "rita", "password": "rita-password"}).status_code == 200
        config = rita.get("/config").json()
        inputs = {d.get("id", i): d["inputs"] for i, d in enumerate(config["dependencies"])}
        for fn_index in admin_fns:
            session = uuid.uuid4().hex[:10]
            joined = rita.post("/gradio_api/queue/join", json={
                "data": [None for _ in inputs[fn_index]], "fn_index": fn_index, "session_hash": session,
                "event_data": None, "trigger_id": None})
            assert joined.status_code == 200, joined.text
            outcome = completed(rita, session)
            assert outcome["success"] is False and "admin role" in (outcome["output"].get("error") or ""), \
                (fn_index, gated.demo.fns[fn_index].name, outcome)
    assert GradioApi(config).events                 # the config the rater saw lists the events it may call
    assert gated.studio.jobs().empty and len(gated.studio.comparisons()) == 0


def completed(client: httpx.Client, session: str) -> dict:
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


TRAVERSALS = ["{media}/../../studio.db", "{media}/../../../../../../etc/passwd", "/etc/passwd", "../../etc/passwd",
              "{data}/studio.db", "{users}", "{media}/%2e%2e/%2e%2e/studio.db", "{media}/%252e%252e/studio.db",
              "{media}/..%2f..%2fstudio.db", "{media}/link-to-db.png", "{media}/link-to-dir/studio.db",
              "{media}/../media-evil/secret.png", "{media}//../../studio.db", "{media}/./../../studio.db",
              "{media}\\..\\..\\studio.db", "file://{data}/studio.db", "{media}/../studio.db%00.png",
              "~/../../{data}/studio.db", "{media}"]


def test_files_are_served_only_from_the_media_folder_whatever_the_path(gated, tried):
    data = gated.studio.config.data_dir
    media_root = data / "media"
    picture = next(media_root.rglob("*.png"))
    (media_root / "link-to-db.png").symlink_to(data / "studio.db")
    (media_root / "link-to-dir").symlink_to(data)
    (data / "media-evil").mkdir()
    (data / "media-evil" / "secret.png").write_bytes(b"SECRET-NEIGHBOUR")
    forbidden = [(data / "studio.db").read_bytes()[:64], Path("/etc/passwd").read_bytes()[:32], b"SECRET-NEIGHBOUR",
                 Path(gated.options.users.path).read_bytes()[:32]]
    values = {"media": str(media_root), "data": str(data), "users": str(gated.options.users.path)}
    refused_at_the_door = []
    with httpx.Client(base_url=gated.url.rstrip("/"), timeout=30) as rita:
        assert rita.post("/login", data={"username": "rita", "password": "rita-password"}).status_code == 200
        shown = rita.get(f"/studio-media/{picture.relative_to(data).as_posix()}")
        assert shown.status_code == 200 and shown.content == picture.read_bytes()
        for pattern in TRAVERSALS:
            target = pattern.format(**values)
            for route in ("/studio-media/", "/studio-media/media/", "/gradio_api/file=", "/gradio_api/file/",
                          "/gradio_api/proxy=", "/static/", "/assets/"):
                tried(f"http: file routes ({route.rstrip('=/')})")
                try:
                    answer = rita.get(route + target)
                except httpx.TransportError:         # the server dropped a malformed request: nothing served
                    refused_at_the_door.append(route + target)
                    continue
                assert not any(secret in answer.content for secret in forbidden), \
                    f"{route}{target} answered {answer.status_code} with a file outside the media folder"
    print("dropped by the server:", refused_at_the_door)
    assert len(refused_at_the_door) < len(TRAVERSALS)        # most were answered (and refused) by the app


@pytest.mark.slow
def test_passwords_never_reach_the_output_the_logs_or_the_data_dir(tmp_path):
    from studio.api import Studio
    from studio.ui.auth import add_user

    secret, wrong = f"pw-{uuid.uuid4().hex}", f"nope-{uuid.uuid4().hex}"
    users = tmp_path / "users.toml"
    add_user(users, "rita", secret, "rater")
    data = tmp_path / "data"
    with Studio.open(data) as studio:
        add_secret_pair(studio)
    server = ServeProcess(data, auth=users, log=tmp_path / "serve.log").start()
    try:
        server.wait_serving()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.post("/login", data={"username": "rita", "password": wrong}).status_code == 400
            assert client.post("/login", data={"username": "nobody", "password": secret}).status_code == 400
            assert client.post("/login", data={"username": "rita", "password": secret}).status_code == 200
            item = client.get("/api/next").json()["next"]["item_id"]
            assert client.post("/api/vote", json={"item_id": item, "outcome": "tie",
                                                  "idempotency_key": "k"}).status_code == 200
    finally:
        server.stop()
    written = [p for p in [tmp_path / "serve.log", users, *data.rglob("*")] if p.is_file()]
    assert any(p.name == "studio.db" for p in written)
    for path in written:
        content = path.read_bytes()
        assert secret.encode() not in content and wrong.encode() not in content, f"a password is in {path}"
    assert "scrypt$" in users.read_text()
