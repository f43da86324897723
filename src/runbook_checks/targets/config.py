"""An app's running configuration, read from where the environment says it lives (its env file)."""

from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values

from runbook_checks.errors import TargetUnreachable


def read_env_file(app: str, path: Path) -> dict[str, str]:
    """The variables of an env file; a missing file means the app's configuration cannot be read."""
    if not path.is_file():
        raise TargetUnreachable(
            f"config of '{app}'", str(path), "file not found",
            "point the app's config.env_file in the environment file at its .env",
        )
    return {k: v for k, v in dotenv_values(path).items() if v is not None}
