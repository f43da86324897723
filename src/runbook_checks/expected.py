"""Expected state that does not depend on the environment (tables, grants, indexes, variables),
kept as YAML beside the checks of its system: suites/common/<system>.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def expected_state(module_file: str) -> dict[str, Any]:
    """The YAML file next to `module_file` with the same stem."""
    path = Path(module_file).with_suffix(".yaml")
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data
