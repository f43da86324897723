"""Expected state (tables, grants, indexes, variables), kept as YAML beside the checks of its
system, suites/common/<system>.yaml, with what differs per environment merged over it from the
environment file's `expected.<system>`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from runbook_checks.yaml_keys import FastUniqueKeyLoader

# The environment's `expected` section, set by the plugin before the check modules are imported.
_overrides: dict[str, dict[str, Any]] = {}


def use_overrides(overrides: dict[str, dict[str, Any]]) -> None:
    """What the run's environment declares differently, by system (environment `expected:`)."""
    _overrides.clear()
    _overrides.update(overrides)


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`base` with `override` laid over it: mappings merge key by key, anything else replaces."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def expected_state(module_file: str) -> dict[str, Any]:
    """The YAML file next to `module_file` with the same stem, with the environment's overrides."""
    path = Path(module_file).with_suffix(".yaml")
    try:
        with path.open() as stream:  # a stream carries the file's name into YAML's error marks
            data = yaml.load(stream, Loader=FastUniqueKeyLoader)  # a SafeLoader: plain data only
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return merged(data, _overrides.get(path.stem, {}))
