"""tsconfig.json as TypeScript reads it: JSON with comments and trailing commas, whose `extends`
names the configurations it builds on (a path relative to the file, or a package's). No I/O here:
the deployed-tree target reads the files, these functions say what they hold."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

# How deep an `extends` chain may go before it is taken for a loop TypeScript would refuse.
MAX_EXTENDS = 16


@dataclass(frozen=True)
class ConfigFile:
    """One configuration file of an `extends` chain: its path on the host, and its parsed object,
    or why it has none (unreadable, malformed, not an object)."""

    path: str
    config: dict[str, Any] | None
    problem: str | None = None


def parse_jsonc(text: str) -> Any:
    """The value of a JSONC document (// and /* */ comments, trailing commas before `}` or `]`).
    ValueError, with the line and column, when what is left is not JSON."""
    return json.loads(_plain_json(text))


def _plain_json(text: str) -> str:
    """The text with its comments blanked and its trailing commas dropped; strings and line
    numbers are kept, so that a JSON error's position is the file's."""
    out: list[str] = []
    i, length = 0, len(text)
    while i < length:
        char = text[i]
        if char == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = length if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError(f"a comment is not closed (line {text.count(chr(10), 0, i) + 1})")
            out.append("".join(c if c == "\n" else " " for c in text[i:end + 2]))
            i = end + 2
        elif char == ",":
            if _next_significant(text, i + 1) in ("}", "]"):
                out.append(" ")
            else:
                out.append(char)
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """The index after the string that opens at `start` (its escapes skipped); the text's end
    when it is not closed (json then says where)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return len(text)


def _next_significant(text: str, start: int) -> str:
    """The next character that is neither blank nor inside a comment."""
    i = start
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            return text[i]
    return ""


def extends_of(config: dict[str, Any]) -> list[str]:
    """What a configuration extends, in the order TypeScript applies them (a string, or a list of
    them since TypeScript 5.0). ValueError for any other value."""
    value = config.get("extends")
    if value is None:
        return []
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise ValueError("extends is neither a path nor a list of paths")


def extends_candidates(config_path: str, name: str, root: str) -> list[str]:
    """Where TypeScript looks for what `name` names, from the file at `config_path`: a relative or
    absolute path as it is, then with `.json` added; a package's name in the deployed tree's
    node_modules (the file it names, with `.json`, or the package's own tsconfig.json)."""
    if name.startswith(("./", "../", "/")) or name in (".", ".."):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(config_path), name))
        return [path] if path.endswith(".json") else [path, f"{path}.json"]
    package = posixpath.normpath(posixpath.join(root, "node_modules", name))
    if package.endswith(".json"):
        return [package]
    return [f"{package}.json", posixpath.join(package, "tsconfig.json")]


@dataclass(frozen=True)
class PathMapping:
    """The `paths` mapping in force after the chain's `compilerOptions` are merged: each alias's
    targets as absolute paths on the host, and which file set `paths`."""

    declared_in: str
    targets: dict[str, list[str]]


def merged_paths(chain: list[ConfigFile]) -> PathMapping | None:
    """The `paths` in force for the first file of `chain` (each file followed by those it extends,
    bases after): the nearest file that sets `paths` wins whole, as does the nearest `baseUrl`.
    Targets join `baseUrl` (relative to the file that sets it) or, without one, the directory of
    the file that sets `paths`. None: no file sets `paths`. ValueError: a value of the wrong type."""
    paths_file = next((f for f in chain if "paths" in _options(f)), None)
    if paths_file is None:
        return None
    paths = _options(paths_file)["paths"]
    if not isinstance(paths, dict) or not all(
            isinstance(v, list) and all(isinstance(t, str) for t in v) for v in paths.values()):
        raise ValueError(f"{paths_file.path}: compilerOptions.paths is not a map of aliases to lists "
                         "of paths")
    base_file = next((f for f in chain if "baseUrl" in _options(f)), None)
    if base_file is not None:
        base_url = _options(base_file)["baseUrl"]
        if not isinstance(base_url, str):
            raise ValueError(f"{base_file.path}: compilerOptions.baseUrl is not a path")
        base = posixpath.join(posixpath.dirname(base_file.path), base_url)
    else:
        base = posixpath.dirname(paths_file.path)
    return PathMapping(paths_file.path, {alias: [posixpath.normpath(posixpath.join(base, t)) for t in targets]
                                         for alias, targets in paths.items()})


def _options(file: ConfigFile) -> dict[str, Any]:
    options = (file.config or {}).get("compilerOptions")
    return options if isinstance(options, dict) else {}
