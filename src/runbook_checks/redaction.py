"""Keeps secret values out of everything a run writes: each is replaced, in every form a program
may print it (URL-, JSON-, repr- and XML-escaped, and inside base64 text); and any URL's password is
hidden whether or not it was declared."""

from __future__ import annotations

import base64
import functools
import json
import re
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "[redacted]"
# A name holds a secret when it says so: ACCESS_TOKEN_MINUTES does not, QSTASH_TOKEN does.
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|_PASS$|TOKEN$|_KEY$|_KEY_|APIKEY", re.IGNORECASE)
_URL_NAME = re.compile(r"_URL$|_DSN$|^DSN$|_URI$", re.IGNORECASE)
_MIN_LENGTH = 4  # a piece shorter than this is never masked: it would hide ordinary text
# What a declared secret must be so that masking it hides it and nothing else (see unsafe_to_mask).
SAFE_LENGTH = 8
_COMMON_GUESSES = 1_000_000
# zxcvbn judges the first characters only: its cost grows fast with the length (over 50 ms for a
# 48-character random value, 1.8 ms for 24, 0.9 ms for 16), and a guessable start (a word, a repeat,
# a sequence) shows there.
_COMMON_LENGTH = 16
# A value of letters and separators alone may be a test's or a key's name (test_required_variables_set).
_NAME = re.compile(r"[A-Za-z_.\-]+")
_NAME_LENGTH = 32
# What may stand just before a secret that is still whole: an escape a program printed (\n, %0A, \x0a).
_ESCAPED = (r"(?<=\\[abfnrtv0])", r"(?<=%[0-9A-Fa-f]{2})", r"(?<=\\x[0-9a-fA-F]{2})",
            r"(?<=\\u[0-9a-fA-F]{4})", r"(?<=&#[0-9]{2})", r"(?<=&#x[0-9a-fA-F]{2})")
# A URL's user information: scheme://user:password@ (the password up to the last @ before a path).
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s/@:'\"<>]*):[^\s/'\"<>]*@", re.IGNORECASE)
_WORD = re.compile(r"\w")


def url_password(value: str) -> str | None:
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def without_credentials(text: str) -> str:
    """`text` with the password of every URL in it hidden (user and host kept, for the reader)."""
    return _URL_CREDENTIALS.sub(rf"\1:{MASK}@", text)


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


def unsafe_to_mask(value: str) -> str | None:
    """Why masking `value` would not keep it secret, or would hide ordinary text too: too short, a
    word or a name, or a password guessers try first. None when it is safe."""
    return unsafe_shape(value) or guessable(value)


def unsafe_shape(value: str) -> str | None:
    """The part of unsafe_to_mask told from the value's shape alone: too short, or a name."""
    if len(value) < SAFE_LENGTH:
        return f"{len(value)} characters, fewer than {SAFE_LENGTH}"
    if _NAME.fullmatch(value) and len(value) < _NAME_LENGTH:
        return f"letters and separators only, fewer than {_NAME_LENGTH} characters: it reads as a name"
    return None


@functools.lru_cache(maxsize=256)  # a secret is often declared twice: as a variable and in a URL
def guessable(value: str) -> str | None:
    """The part of unsafe_to_mask zxcvbn tells: a password guessers try first."""
    from zxcvbn import zxcvbn  # its word lists load on first use, not with the plugin

    if zxcvbn(value[:_COMMON_LENGTH])["guesses"] < _COMMON_GUESSES:
        return "a common password"
    return None


def _xml_forms(value: str) -> set[str]:
    """`value` as XML text or an attribute prints it: &, < and > escaped, and " (and ' too, or not)
    as xml.sax.saxutils.escape would, without the import of urllib.request that module brings."""
    quoted = value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace('"', "&quot;")
    return {quoted, quoted.replace("'", "&apos;")}


def encodings(value: str) -> set[str]:
    """The forms in which a program may print `value`."""
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1], repr(value)[1:-1],
            *_xml_forms(value)}


def base64_forms(value: str) -> set[str]:
    """What of `value` shows inside any base64 text that encodes it among other bytes (an HTTP
    Basic credential `user:password`, a Kubernetes secret, a token's payload): for each of the
    three places it may start within a 3-byte group, the characters its bytes alone decide, in
    the standard and the URL-safe alphabet. None shorter than a safe secret."""
    data, forms = value.encode(), set()
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).decode()
        # character i holds bits 6i..6i+5: those within the value's bits, 8*shift..8*(shift+len)
        decided = encoded[-(-8 * shift // 6):8 * (shift + len(data)) // 6]
        forms |= {decided, decided.translate(_URL_SAFE)}
    return {form for form in forms if len(form) >= SAFE_LENGTH}


_URL_SAFE = str.maketrans("+/", "-_")


def _whole(value: str) -> str:
    """A pattern for `value` standing alone: not inside a longer word on a side where it starts or
    ends with a word character (so a secret never masks part of an identifier)."""
    before = "(?:" + "|".join((r"(?<!\w)", *_ESCAPED)) + ")" if _WORD.match(value[0]) else ""
    after = r"(?!\w)" if _WORD.match(value[-1]) else ""
    return before + re.escape(value) + after


class UnsafeSecret(ValueError):
    """A declared secret that masking cannot keep out of the output: too short or too common."""

    @classmethod
    def of(cls, name: str | None, problem: str) -> UnsafeSecret:
        return cls(f"{name or 'a secret'}: {problem}: too weak to keep out of the output; "
                   "give it a long random value")


class Redactor:
    """A set of secret strings, and the text with each of them masked: a secret safe to mask
    wherever it appears, a weak one (read from an app at run time) only where it stands whole, so
    that it never masks part of an identifier."""

    def __init__(self, guess_later: bool = False) -> None:
        self._secrets: dict[str, bool] = {}  # printed form -> masked anywhere (else only whole)
        self._pattern: re.Pattern[str] | None = None
        self._wrapped: set[str] = set()  # base64 forms, masked with line breaks anywhere in them
        self.unmaskable: set[str] = set()  # names of values read at run time too weak to mask safely
        # With `guess_later`, a strict secret's shape is judged at once and how guessable it is left
        # to the caller (secret_strength.py): (name, value), each secret whatever its name
        self._guess_later = guess_later
        self.unguessed: list[tuple[str, str]] = []

    def add(self, value: str | None, name: str | None = None, strict: bool = False) -> None:
        """Registers a secret (a URL's password on its own too) in each of its forms. With `strict`,
        one that is unsafe to mask raises UnsafeSecret naming `name`; otherwise `name` is noted in
        `unmaskable` and the value masked where it stands whole."""
        if not value:
            return
        password = url_password(value)
        whole = unquote(password) if password else value
        later = strict and self._guess_later
        problem = unsafe_shape(whole) if later else unsafe_to_mask(whole)
        if problem and strict:
            raise UnsafeSecret.of(name, problem)
        if later and not problem:
            self.unguessed.append((name or "a secret", whole))
        if problem and name:
            self.unmaskable.add(name)
        pieces = {value} | credential_pieces(value) | ({password, unquote(password)} if password else set())
        for piece in pieces:
            if len(piece) < _MIN_LENGTH:
                continue
            anywhere = not problem and len(piece) >= SAFE_LENGTH and not _NAME.fullmatch(piece)
            # base64 text runs on around a secret in it: only one safe to mask anywhere is masked there,
            # URL-encoded too, and across the line breaks of base64 wrapped at a width (MIME, PEM)
            encoded = base64_forms(piece) if anywhere else set()
            self._wrapped |= encoded
            for form in encodings(piece).union(*map(encodings, encoded)):
                if anywhere and not self._secrets.get(form) or form not in self._secrets:
                    self._secrets[form] = anywhere
                    self._pattern = None

    def add_variable(self, name: str, value: str | None, strict: bool = False) -> None:
        """A variable by its name: secrets whole; URLs and DSNs only when they carry a password."""
        if not value:
            return
        named_secret = bool(_SECRET_NAME.search(name))
        url_with_password = bool(_URL_NAME.search(name) and url_password(value))
        unparsed_credentials = "@" in value and "://" in value
        if named_secret or url_with_password or unparsed_credentials:
            self.add(value, name, strict)

    def _holds_a_form(self, text: str) -> bool:
        """Whether `text` holds a printed form of a secret (or a base64 one across line breaks):
        what every match needs, found by plain substring search, so that the pattern (which
        tries each form at each place) runs only on the rare text that may show a secret."""
        if any(form in text for form in self._secrets):
            return True
        unwrapped = text.replace("\r", "").replace("\n", "")
        return any(form in unwrapped for form in self._wrapped)

    def may_change(self, text: str) -> bool:
        """Whether masking could change `text`: it holds a URL, or a printed form of a secret. A
        long text that may not is left whole, without masking it piece by piece."""
        return "://" in text or bool(self._secrets) and self._holds_a_form(text)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = without_credentials(text)
        if not self._secrets or not self._holds_a_form(text):
            return text
        if self._pattern is None:
            ordered = sorted(self._secrets, key=len, reverse=True)
            wrapped = [r"(?:\r?\n)?".join(map(re.escape, form)) for form in sorted(self._wrapped)]
            printed = [re.escape(form) if self._secrets[form] else _whole(form) for form in ordered]
            self._pattern = re.compile("|".join(wrapped + printed))
        return self._pattern.sub(MASK, text)
