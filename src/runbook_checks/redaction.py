"""Keeps secret values out of everything a run writes: they are replaced wherever they appear."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MASK = "[redacted]"
# A name holds a secret when it says so: ACCESS_TOKEN_MINUTES does not, QSTASH_TOKEN does.
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|_PASS$|TOKEN$|_KEY$|_KEY_|APIKEY", re.IGNORECASE)
_URL_NAME = re.compile(r"_URL$|_DSN$|^DSN$|_URI$", re.IGNORECASE)
_MIN_LENGTH = 4


def url_password(value: str) -> str | None:
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def credential_pieces(value: str) -> set[str]:
    """The password of a URL, however malformed: everything between the user's ':' and the last
    '@', raw and decoded, and each piece of it between reserved characters (a parser that splits
    an unencoded password may echo any of them as a host or a path)."""
    rest = value.partition("://")[2]
    if "@" not in rest:
        return set()
    password = rest[: rest.rfind("@")].partition(":")[2]
    if not password:
        return set()
    pieces = {password, unquote(password)}
    pieces |= set(re.split(r"[@/#?:\[\]]", password))
    return pieces


class Redactor:
    """A set of secret strings, and the text with each of them masked."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        """Registers a secret; a URL's password is registered on its own too (raw and decoded)."""
        if not value or len(value) < _MIN_LENGTH:
            return
        new = {value} | credential_pieces(value)
        password = url_password(value)
        if password:
            new |= {password, unquote(password)}
        new = {v for v in new if len(v) >= _MIN_LENGTH} - self._secrets
        if new:
            self._secrets |= new
            self._pattern = None

    def add_variable(self, name: str, value: str | None) -> None:
        """A variable by its name: secrets whole; URLs and DSNs only when they carry a password."""
        if not value:
            return
        named_secret = bool(_SECRET_NAME.search(name))
        url_with_password = bool(_URL_NAME.search(name) and url_password(value))
        unparsed_credentials = "@" in value and "://" in value
        if named_secret or url_with_password or unparsed_credentials:
            self.add(value)

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if self._pattern is None:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
        return self._pattern.sub(MASK, text)
