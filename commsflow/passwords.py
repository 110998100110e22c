"""The desk's login passwords: scrypt hashes, held in environment variables only.

A person under ``[[people]]`` may name ``password_env = "COMMSFLOW_DESK_PASSWORD_DANA"``;
that variable (in the service's environment, never in ``commsflow.toml``) holds a hash
``commsflow desk-password NAME`` made::

    scrypt$16384$8$1$<salt, base64>$<hash, base64>

hashlib.scrypt with a random 16-byte salt, n=2**14, r=8, p=1. No password is ever
stored, printed or logged; no hash either, except the line ``desk-password`` prints.
A login is configured when at least one listed person's variable holds such a hash; a set
variable that holds anything else stops the desk, naming the variable (never its value).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from commsflow.config import CONFIG_FILE, Config, Person
from commsflow.errors import CommsflowError
from commsflow.i18n import _

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH = 10  # characters of a new password
_MAX_MEMORY = 256 * 1024 * 1024  # what a hash's parameters may ask of scrypt, in bytes


@dataclass(frozen=True)
class Stored:
    """A parsed hash: scrypt's parameters, the salt and the derived key."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes


def _derive(password: str, n: int, r: int, p: int, salt: bytes, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * n * r * p + 2**20, dklen=length
    )


def hash_password(password: str) -> str:
    """A new hash of ``password`` with a random salt, as ``password_env`` variables hold it."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, N, R, P, salt, HASH_BYTES)
    return "$".join((SCHEME, str(N), str(R), str(P), base64.b64encode(salt).decode(), base64.b64encode(key).decode()))


def parse(text: str) -> Stored:
    """The hash ``text`` holds; ValueError (without the text) when it holds none."""
    parts = text.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME or not all(part.isdigit() for part in parts[1:4]):
        raise ValueError("not a scrypt hash")
    n, r, p = (int(part) for part in parts[1:4])
    if n < 2**10 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or 128 * n * r * p > _MAX_MEMORY:
        raise ValueError("scrypt parameters out of range")
    try:
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(salt) < SALT_BYTES or len(key) < 16:
        raise ValueError("salt or hash too short")
    return Stored(n, r, p, salt, key)


def verify(password: str, stored: Stored) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time comparison)."""
    key = _derive(password, stored.n, stored.r, stored.p, stored.salt, len(stored.key))
    return hmac.compare_digest(key, stored.key)


# Compared against when a name names nobody with a password: a failed login takes as long
# either way, so the time it takes does not tell whether the name exists.
_NOBODY = Stored(N, R, P, b"\0" * SALT_BYTES, b"\0" * HASH_BYTES)


def verify_or_waste(password: str, stored: Stored | None) -> bool:
    if stored is None:
        verify(password, _NOBODY)
        return False
    return verify(password, stored)


def stored_for(person: Person, environ: Mapping[str, str] | None = None) -> Stored | None:
    """The hash ``person``'s ``password_env`` variable holds; None when they have none, the
    variable is unset or empty. CommsflowError naming the variable when it holds no hash."""
    environ = os.environ if environ is None else environ
    if not person.password_env:
        return None
    value = (environ.get(person.password_env) or "").strip()
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise CommsflowError(
            _("the environment variable {variable} ({person}'s password_env) holds no password hash").format(
                variable=person.password_env, person=person.name
            ),
            _(
                "it must hold the line commsflow desk-password prints (scrypt$…), never a password: "
                "run commsflow desk-password {person!r} and put its line into the service's environment"
            ).format(person=person.name),
        ) from None


def logins(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, Stored]:
    """Who can log in to the desk: listed name → hash. Empty: no login is configured.
    CommsflowError for a set variable that holds no hash (checked for every person)."""
    found = {}
    for person in config.people:
        stored = stored_for(person, environ)
        if stored is not None:
            found[person.name] = stored
    return found


def suggested_variable(name: str) -> str:
    """A variable name for ``name``'s hash: COMMSFLOW_DESK_PASSWORD_DANA_SCHULZ."""
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = re.findall(r"[A-Z0-9]+", plain)
    return "COMMSFLOW_DESK_PASSWORD_" + ("_".join(words) or "PERSON")


def not_configured_hint() -> str:
    return _(
        "to open the desk on another address, configure a login: give a person under [[people]] in {config} "
        'password_env = "COMMSFLOW_DESK_PASSWORD_…", run commsflow desk-password NAME and put its line into '
        "the desk's environment"
    ).format(config=CONFIG_FILE)
