"""Raters and roles: the users file, password hashes, and who is asking.

The users file is TOML written by `studio users add`:

    [users."ana"]
    role = "admin"
    password = "scrypt$16384$8$1$<salt>$<hash>"

Passwords are never stored or logged: only a salted `hashlib.scrypt` hash. With a users
file, people sign in on the studio's own login page (`studio.ui.login`: rate-limited, a
bounded number of scrypt computations at once, a session cookie of its own) and every
handler asks `Access` for the role, so the check happens on the server for each call.
Without one, the rater types a name once per browser session, and nobody is an admin
except a browser that opened the admin link `studio serve` prints (`studio.ui.admin_link`):
where the server listens grants nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from studio.errors import AccessDenied, ConfigError, InputError
from studio.ui.text_input import one_line_name

ROLES = ("rater", "admin")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_TYPED_NAME = 80

# scrypt cost: about 16 MiB and a few tens of milliseconds per login on a laptop.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _DKLEN = 2 ** 14, 8, 1, 32


def hash_password(password: str) -> str:
    if not password:
        raise InputError("a password cannot be empty")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = _DKLEN) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=64 * 1024 * 1024)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


class Users:
    """The users file, loaded once at start-up (restart `studio serve` after editing it)."""

    def __init__(self, users: dict[str, User], path: Path | None = None):
        self.path = path
        self._users = users
        # Compared against when the name is unknown, so a wrong name costs as long as a
        # wrong password and the login page does not reveal which names exist.
        self._decoy = hash_password(secrets.token_hex(8))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Users:
        return cls(read_users_file(Path(path)), Path(path))

    def __len__(self) -> int:
        return len(self._users)

    def names(self) -> list[str]:
        return sorted(self._users)

    def check(self, name: str, password: str) -> bool:
        """Gradio's auth callable: True when the name and password match."""
        user = self._users.get(name)
        ok = verify_password(password, user.password_hash if user else self._decoy)
        return ok and user is not None

    def role(self, name: str | None) -> str | None:
        user = self._users.get(name or "")
        return user.role if user else None


MAX_USERS_FILE_BYTES = 1024 * 1024


def read_users_file(path: Path) -> dict[str, User]:
    try:
        if not path.exists():
            raise ConfigError(f"{path}: users file not found; create it with `studio users add NAME --file {path}`")
        if not path.is_file():       # a directory, a device such as /dev/zero, a named pipe
            raise ConfigError(f"{path}: not a regular file; give the users file written by `studio users add`")
        if path.stat().st_size > MAX_USERS_FILE_BYTES:
            raise ConfigError(f"{path}: over 1 MiB, too big for a users file; give the one `studio users add` wrote")
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix it or recreate it with `studio users add`") from exc
    except OSError as exc:           # a name too long, a loop of links, no permission
        raise ConfigError(f"{path}: cannot read the users file ({exc.strerror or exc})") from exc
    unknown = set(raw) - {"users"}
    if unknown:
        raise ConfigError(f"{path}: unknown section '{sorted(unknown)[0]}' (a users file has only [users.NAME] tables)")
    users: dict[str, User] = {}
    for name, entry in raw.get("users", {}).items():
        if not NAME_PATTERN.match(name):
            raise ConfigError(f"{path}: user name {name!r} must be letters, digits, '_', '.', '@' or '-' (64 at most)")
        if not isinstance(entry, dict) or entry.get("role") not in ROLES or not isinstance(entry.get("password"), str):
            raise ConfigError(f"{path}: user {name!r} needs role = \"rater\" or \"admin\" and a password hash; "
                              "set it with `studio users add`")
        users[name] = User(name=name, role=entry["role"], password_hash=entry["password"])
    return users


# The studio's own database files: a users file written over one would replace it.
DATABASE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite3")


def add_user(path: str | os.PathLike[str], name: str, password: str, role: str) -> bool:
    """Add a user, or replace their password and role; returns True when the name was new.
    The file is rewritten atomically and readable by its owner only."""
    path = Path(path)
    if not NAME_PATTERN.match(name):
        raise InputError(f"user name {name!r} must be letters, digits, '_', '.', '@' or '-' (64 at most)")
    if role not in ROLES:
        raise InputError(f"role must be rater or admin, got {role!r}")
    if path.name.endswith(DATABASE_SUFFIXES):
        raise InputError(f"{path}: looks like a database file, not a users file; give a .toml file")
    try:
        if path.exists() and path.is_file() and path.stat().st_size == 0 and path.suffix != ".toml":
            raise InputError(f"{path}: an empty file that is not a .toml users file; give a new .toml "
                             "file or an existing users file")
        users = read_users_file(path) if path.exists() or path.is_symlink() else {}
        new = name not in users
        users[name] = User(name=name, role=role, password_hash=hash_password(password))
        write_users_file(path, users)
    except OSError as exc:           # a missing permission, a name too long, a file where a folder should be
        raise ConfigError(f"{path}: cannot write the users file ({exc.strerror or exc})") from exc
    return new


def write_users_file(path: Path, users: dict[str, User]) -> None:
    lines = ["# Feedback Studio users, written by `studio users add`. Passwords are salted scrypt hashes.", ""]
    for user in sorted(users.values(), key=lambda u: u.name):
        lines += [f"[users.{json.dumps(user.name)}]", f"role = {json.dumps(user.role)}",
                  f"password = {json.dumps(user.password_hash)}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def clean_typed_name(name: str | None) -> str:
    """A rater name typed into the page (no users file): trimmed, one line, not empty, no
    control characters (a name is shown to admins and stored with every vote)."""
    cleaned = one_line_name(name, what="a name", limit=MAX_TYPED_NAME)
    if not cleaned:
        raise InputError("enter your name to start rating")
    return cleaned


@dataclass(frozen=True)
class Person:
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Access:
    """Who is calling, decided on the server for every request."""

    def __init__(self, users: Users | None):
        self.users = users

    @property
    def gated(self) -> bool:
        return self.users is not None

    def person(self, username: str | None, typed_name: str | None, *, admin_link: bool = False) -> Person | None:
        """The caller: the signed-in user with a users file (their role from the file), else
        the name typed in this browser session, an admin only when this browser opened the
        server's admin link (`admin_link`); None when nobody is known yet."""
        if self.users is not None:
            role = self.users.role(username)
            return Person(username, role) if username and role else None
        if not typed_name:
            return None
        return Person(typed_name, "admin" if admin_link else "rater")

    def require(self, username: str | None, typed_name: str | None, *, admin_link: bool = False) -> Person:
        person = self.person(username, typed_name, admin_link=admin_link)
        if person is None:
            raise AccessDenied("sign in (or enter your name) before rating")
        return person

    def require_admin(self, username: str | None, typed_name: str | None, *, admin_link: bool = False) -> Person:
        person = self.require(username, typed_name, admin_link=admin_link)
        if not person.is_admin:
            if self.users is None:
                raise AccessDenied(f"{person.name} is a rater: this action needs the admin role (open the admin "
                                   "link `studio serve` printed, in this browser)")
            raise AccessDenied(f"{person.name} is a rater: this action needs the admin role")
        return person
