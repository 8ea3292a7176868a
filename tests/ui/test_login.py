"""Signing in: failed attempts slow down and are then refused for a while, per user name and
per client address, with a message saying so; at most a few scrypt checks run at once; the
session is the studio's own cookie, which the page, Gradio's queue and the vote API all read."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from studio.ui.login import LoginLimits, LoginThrottle, Refused, SignIns
from tests.ui.conftest import serve


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_sign_ins_slow_down_then_lock_the_name_for_a_while():
    clock = Clock()
    limits = LoginLimits()
    throttle = LoginThrottle(limits, clock)
    waits = [throttle.attempt("ana", f"10.0.0.{n}") for n in range(limits.lock_after)]   # all wrong
    assert waits[:limits.free_failures] == [0.0] * limits.free_failures
    slowed = waits[limits.free_failures:]
    assert slowed == sorted(slowed) and slowed[0] > 0 and slowed[-1] <= limits.max_delay_s
    with pytest.raises(Refused, match="too many failed sign-ins for 'ana': try again in 5 minutes") as refused:
        throttle.attempt("ana", "10.0.0.99")                       # the right password would not be checked
    assert refused.value.status == 429 and refused.value.retry_after == pytest.approx(limits.lockout_s)
    assert throttle.attempt("bo", "10.0.0.98") == 0.0              # other names are not held back
    clock.now += limits.lockout_s + 1
    throttle.attempt("ana", "10.0.0.99")                           # the lockout has passed
    throttle.succeeded("ana", "10.0.0.99")
    assert throttle.attempt("ana", "10.0.0.99") == 0.0             # a success forgets the name's failures


def test_one_address_trying_many_names_is_locked_out_too():
    clock = Clock()
    limits = LoginLimits()
    throttle = LoginThrottle(limits, clock)
    for n in range(limits.lock_after):
        throttle.attempt(f"name{n}", "10.9.9.9")
    with pytest.raises(Refused, match="from your address"):
        throttle.attempt("a-new-name", "10.9.9.9")
    assert throttle.attempt("a-new-name", "10.1.1.1") == 0.0
    clock.now += limits.window_s + 1                                # failures older than the window are forgotten
    assert throttle.attempt("another", "10.9.9.9") == 0.0


@pytest.fixture
def gated_fast(ui_studio, users_file):
    """A studio with a users file and small limits, so a test reaches them quickly."""
    from studio.ui.auth import Users

    limits = LoginLimits(free_failures=2, lock_after=4, first_delay_s=0.2, max_delay_s=0.4, lockout_s=600)
    server = serve(ui_studio, users=Users.load(users_file), sign_ins=SignIns(limits))
    yield server
    server.close()


def test_a_burst_of_wrong_passwords_is_slowed_then_refused_with_a_clear_message(gated_fast):
    with httpx.Client(base_url=gated_fast.url, timeout=30) as client:
        answers, times = [], []
        for _ in range(4):
            started = time.monotonic()
            answers.append(client.post("/login", data={"username": "rita", "password": "guess"}))
            times.append(time.monotonic() - started)
        assert [a.status_code for a in answers] == [400, 400, 400, 400]
        assert times[2] >= 0.2 and times[3] >= 0.4                    # the third and fourth waited
        locked = client.post("/login", data={"username": "rita", "password": "rita-password"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 500
        assert locked.json()["error"].startswith("too many failed sign-ins for 'rita': try again in")
        assert "studio-session" not in "".join(locked.headers.get_list("set-cookie"))
        # the same address trying the next name is held back too
        other = client.post("/login", data={"username": "adam", "password": "adam-password"})
        assert other.status_code == 429 and "from your address" in other.json()["error"]
        page = client.post("/login", data={"username": "rita", "password": "x"}, headers={"Accept": "text/html"})
        assert page.status_code == 429 and "too many failed sign-ins" in page.text and "<form" in page.text


def test_at_most_two_password_checks_run_at_once(ui_studio, users_file):
    from studio.ui.auth import Users

    limits = LoginLimits(free_failures=1000, lock_after=1000)
    server = serve(ui_studio, users=Users.load(users_file), sign_ins=SignIns(limits))

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            answers = await asyncio.gather(*(client.post("/login", data={"username": f"user{n}", "password": "pw"})
                                             for n in range(24)))
            return [a.status_code for a in answers]

    try:
        # (in a thread of its own: a browser test earlier in the session may hold this thread's loop)
        with ThreadPoolExecutor(1) as pool:
            statuses = pool.submit(asyncio.run, burst()).result()
        assert set(statuses) <= {400, 503} and statuses.count(400) >= 2
        gate = server.options.sign_ins.gate
        assert gate.peak <= limits.scrypt_at_once and gate.running == 0
    finally:
        server.close()


def test_the_session_is_the_studios_own_cookie_and_signing_out_ends_it(gated_fast):
    with httpx.Client(base_url=gated_fast.url, timeout=30) as client:
        signed = client.post("/login", data={"username": "rita", "password": "rita-password"})
        assert signed.status_code == 200 and signed.json() == {"success": True}
        (cookie,) = signed.headers.get_list("set-cookie")
        assert cookie.startswith(f"studio-session-{gated_fast.options.port}=")
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
        assert client.get("/gradio_api/user").json() == "rita"          # what Gradio's queue sees
        assert client.get("/api/next").status_code == 200                 # and the vote API
        stolen = dict(client.cookies)
        client.get("/logout")
    with httpx.Client(base_url=gated_fast.url, timeout=30, cookies=stolen) as replay:
        assert replay.get("/api/next").status_code == 401                 # the session is gone on the server
        assert replay.get("/", follow_redirects=False).status_code == 303
