"""Users file, password hashes and roles: no plain password is ever written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from studio.errors import AccessDenied, ConfigError, InputError
from studio.ui.auth import Access, Users, add_user, clean_typed_name, hash_password, verify_password


def test_a_password_hash_verifies_only_the_same_password_and_is_salted():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and "correct horse" not in first
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct hors", first)
    assert not verify_password("correct horse", "plain-text-is-not-a-hash")


def test_the_users_file_keeps_names_roles_and_hashes_only(tmp_path):
    path = tmp_path / "users.toml"
    assert add_user(path, "ana", "ana-secret", "admin") is True
    assert add_user(path, "bo", "bo-secret", "rater") is True
    assert add_user(path, "bo", "bo-new-secret", "admin") is False      # replaced, not duplicated
    text = path.read_text()
    assert "secret" not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    users = Users.load(path)
    assert users.names() == ["ana", "bo"] and users.role("bo") == "admin"
    assert users.check("bo", "bo-new-secret") and not users.check("bo", "bo-secret")
    assert not users.check("nobody", "bo-new-secret")


def test_bad_names_roles_and_files_are_refused_with_one_line(tmp_path):
    with pytest.raises(InputError, match="user name"):
        add_user(tmp_path / "u.toml", "has space", "pw", "rater")
    with pytest.raises(InputError, match="role"):
        add_user(tmp_path / "u.toml", "ana", "pw", "owner")
    with pytest.raises(InputError, match="empty"):
        add_user(tmp_path / "u.toml", "ana", "", "rater")
    broken = tmp_path / "broken.toml"
    broken.write_text('[users.ana]\nrole = "boss"\npassword = "x"\n')
    with pytest.raises(ConfigError, match="ana"):
        Users.load(broken)
    with pytest.raises(ConfigError, match="studio users add"):
        Users.load(tmp_path / "missing.toml")


def test_roles_come_from_the_users_file_and_without_one_from_the_admin_link(tmp_path):
    add_user(tmp_path / "u.toml", "rita", "pw", "rater")
    add_user(tmp_path / "u.toml", "adam", "pw", "admin")
    gated = Access(Users.load(tmp_path / "u.toml"))
    assert gated.require("rita", "typed-name-is-ignored").name == "rita"
    with pytest.raises(AccessDenied):
        gated.require_admin("rita", None, admin_link=True)      # the link grants nothing with a users file
    assert gated.require_admin("adam", None).is_admin
    with pytest.raises(AccessDenied):
        gated.require(None, "adam")          # a typed name never stands in for a login
    open_studio = Access(None)
    assert open_studio.require_admin(None, "me", admin_link=True).name == "me"
    with pytest.raises(AccessDenied, match="admin link"):
        open_studio.require_admin(None, "me")                     # wherever the server listens
    with pytest.raises(AccessDenied):
        open_studio.require(None, None)


def test_typed_names_are_trimmed_and_bounded():
    assert clean_typed_name("  Ana   Lee ") == "Ana Lee"
    with pytest.raises(InputError):
        clean_typed_name("   ")
    with pytest.raises(InputError):
        clean_typed_name("x" * 81)


def test_users_add_reads_the_password_from_stdin_and_never_prints_it(tmp_path):
    path = tmp_path / "users.toml"
    result = subprocess.run([sys.executable, "-m", "studio", "users", "add", "ana", "--role", "admin",
                             "--file", str(path), "--password-stdin"], input="s3cret-pw\n",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr + path.read_text()
    assert Users.load(path).check("ana", "s3cret-pw")
    listed = subprocess.run([sys.executable, "-m", "studio", "users", "list", "--file", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert "ana" in listed.stdout and "admin" in listed.stdout and "scrypt" not in listed.stdout


def test_serving_with_a_users_file_that_names_nobody_is_refused(tmp_path):
    """An empty users file (or any file that parses to no users, such as the database's own
    empty WAL file) would start a studio nobody can sign in to."""
    from tests.reliability.cli import run_cli

    empty = tmp_path / "users.toml"
    empty.write_text("")
    code, out, err = run_cli(["serve", "--auth", str(empty), "--no-worker", "--no-pool", "--port", "9"],
                             tmp_path / "data")
    assert code != 0 and err.startswith("error: ") and "no users" in err and err.count("\n") == 1
    assert "studio users add" in err
