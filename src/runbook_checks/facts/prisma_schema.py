"""A Prisma schema (schema.prisma) read as far as the checks need it: its top-level blocks (model,
enum, generator...) as tokens, so that two schemas that differ only in layout or comments compare
equal (`prisma generate` writes a formatted copy beside the client), and the client generators
with where each writes its client. No I/O here."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook_checks.facts.hosts import DirectoryFiles, FileText

# The generators that write a Prisma client; `prisma-client-js` writes into node_modules by default.
CLIENT_PROVIDERS = ("prisma-client-js", "prisma-client")
DEFAULT_OUTPUT = "node_modules/.prisma/client"

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|[A-Za-z0-9_.\-]+|\S')
_BLOCK_KINDS = ("model", "enum", "type", "view", "generator", "datasource")


def tokens(text: str) -> list[str]:
    """The schema's tokens: strings, names and punctuation; blanks and comments (//, ///) left out."""
    return [t for t in _TOKEN.findall(text) if not t.startswith("//")]


def blocks(text: str) -> dict[str, tuple[str, ...]]:
    """Each top-level block by its kind and name (`model User`) -> its tokens. ValueError when the
    braces do not pair up or something stands outside a block."""
    found: dict[str, tuple[str, ...]] = {}
    items, i = tokens(text), 0
    while i < len(items):
        if items[i] not in _BLOCK_KINDS or i + 2 >= len(items) or items[i + 2] != "{":
            raise ValueError(f"'{items[i][:40]}' stands outside a block")
        depth, end = 0, i + 2
        for end in range(i + 2, len(items)):
            depth += {"{": 1, "}": -1}.get(items[end], 0)
            if depth == 0:
                break
        if depth != 0:
            raise ValueError(f"the block {items[i]} {items[i + 1]} is not closed")
        found[f"{items[i]} {items[i + 1]}"] = tuple(items[i + 3:end])
        i = end + 1
    return found


@dataclass(frozen=True)
class ClientGenerator:
    """A generator block that writes a Prisma client: its provider, and its output directory on
    the host (None where the schema leaves it to an environment variable)."""

    name: str
    provider: str
    output: str | None


@dataclass(frozen=True)
class GeneratedClient:
    """What one client generator left in its output directory: the files there and the copy of the
    schema it was generated from (None where there is none to read)."""

    generator: ClientGenerator
    files: DirectoryFiles | None
    schema_copy: FileText | None


def client_generators(text: str, schema_path: str, root: str) -> list[ClientGenerator]:
    """The schema's client generators, each with the directory it writes the client into:
    `output` relative to the schema's directory, by default node_modules/.prisma/client of the
    deployed tree. ValueError when the schema does not parse into blocks."""
    generators = []
    for key, body in blocks(text).items():
        kind, name = key.split(" ", 1)
        settings = _settings(body)
        provider = settings.get("provider", "")
        if kind != "generator" or provider.strip('"') not in CLIENT_PROVIDERS:
            continue
        output = settings.get("output")
        if output is None:
            where: str | None = posixpath.join(root, DEFAULT_OUTPUT)
        elif output.startswith('"'):
            where = posixpath.normpath(posixpath.join(posixpath.dirname(schema_path), output.strip('"')))
        else:
            where = None  # env("...")
        generators.append(ClientGenerator(name, provider.strip('"'), where))
    return generators


def _settings(body: tuple[str, ...]) -> dict[str, str]:
    """`key = value` pairs of a generator block; a value that is a call (env("X")) is kept as its
    tokens run together."""
    settings: dict[str, str] = {}
    i = 0
    while i + 2 < len(body):
        if body[i + 1] != "=":
            i += 1
            continue
        key, value, i = body[i], body[i + 2], i + 3
        if i < len(body) and body[i] == "(":
            close = body.index(")", i) if ")" in body[i:] else len(body) - 1
            value, i = value + "".join(body[i:close + 1]), close + 1
        settings[key] = value
    return settings


def differing_blocks(deployed: str, generated: str) -> list[str]:
    """The blocks in which two schemas differ (tokens compared: layout and comments aside), each
    with how: only in the deployed schema, only in the generated copy, or changed."""
    ours, theirs = blocks(deployed), blocks(generated)
    differences = [f"{key}: in the deployed schema only" for key in ours if key not in theirs]
    differences += [f"{key}: in the client's copy only" for key in theirs if key not in ours]
    differences += [f"{key}: changed" for key in ours if key in theirs and ours[key] != theirs[key]]
    return differences
