"""`${VAR}` and `${VAR:-default}` substitution in environment files, collecting every missing name."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Substituted(str):
    """Text that holds a variable's value: a number field reads it as the number it spells
    (`${IDLE_SECONDS:-600}`), where a literal written as text ("600") is refused."""


@dataclass
class Interpolator:
    """Substitutes variables from `values`; unset ones are recorded with the key path needing them,
    or, given `placeholder` (a plan), take its value for that key path, neither recorded nor used."""

    values: Mapping[str, str]
    missing: list[tuple[str, str]] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)
    placeholder: Callable[[str, str, bool], str] | None = None

    def text(self, text: str, path: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = self.values.get(name)
            if value is None or (value == "" and default is not None):
                if default is None and self.placeholder is not None:
                    return self.placeholder(path, name, match.group(0) == text)
                if default is None:
                    self.missing.append((path, name))
                    return ""
                value = default
            self.used[name] = value
            return value

        result, count = _REFERENCE.subn(replace, text)
        return Substituted(result) if count else result

    def tree(self, node: Any, path: str = "") -> Any:
        """Interpolates every string in a YAML tree; keys are left as written."""
        if isinstance(node, str):
            return self.text(node, path)
        if isinstance(node, dict):
            return {k: self.tree(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [self.tree(v, f"{path}[{i}]") for i, v in enumerate(node)]
        return node
