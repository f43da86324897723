"""PyYAML's safe loader refusing a key repeated in one mapping: YAML says keys are unique, and
PyYAML would keep the last value silently (a threshold set twice, a database declared twice)."""

from __future__ import annotations

from typing import Any

import yaml


class _UniqueKeys(yaml.constructor.SafeConstructor):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` may be overridden by the keys beside it
            key = self.construct_object(key_node, deep=deep)  # type: ignore[attr-defined]
            try:
                line = first.setdefault(key, key_node.start_mark.line)
            except TypeError:
                continue  # unhashable: the safe loader says so itself
            if line != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} repeated (first at line {line + 1})", key_node.start_mark)
        return super().construct_mapping(node, deep)


class UniqueKeyLoader(_UniqueKeys, yaml.SafeLoader):
    """The safe loader, in Python (its composing steps may be overridden), keys unique."""


class FastUniqueKeyLoader(_UniqueKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same over libyaml's parser where PyYAML has it: a file of hundreds of declared checks
    reads in a fraction of the time."""
