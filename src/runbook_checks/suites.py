"""Which files a gate run collects: `pytest suites/<env>` names an environment, not a directory
of copies; its checks are every module and YAML declaration of the checks directory (of the
systems the environment gates)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from runbook_checks.errors import ConfigurationError

if TYPE_CHECKING:
    from runbook_checks.environment import Environment

CHECKS_DIR = "suites/common"


def environment_name(config: pytest.Config) -> str | None:
    """--env, or the <env> of the suites/<env>/ the run's paths lie in; None for other runs."""
    if config.option.rc_env:
        named_file = env_option_file(config)
        return named_file.stem if named_file is not None else str(config.option.rc_env)
    suites = (config.rootpath / "suites").resolve()
    checks = (config.rootpath / CHECKS_DIR).resolve()
    names = set()
    for arg in config.args:
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if path == suites:
            raise pytest.UsageError("run one suite at a time: pytest suites/<env> (or pass --env)")
        if path.is_relative_to(suites) and not path.is_relative_to(checks):
            names.add(path.relative_to(suites).parts[0])
    if len(names) > 1:
        raise pytest.UsageError(f"run one suite at a time, not {', '.join(sorted(names))}")
    return names.pop() if names else None


def env_option_file(config: pytest.Config) -> Path | None:
    """The environment file --env names by path (a .yaml or .yml), if it does."""
    option = config.option.rc_env
    if option and str(option).endswith((".yaml", ".yml")):
        return (Path(config.invocation_params.dir) / str(option)).resolve()
    return None


def known_systems(env: Environment, path: Path, checks: Path) -> None:
    """The systems an environment names (systems:, expected:) exist in the checks directory."""
    named = [("systems", s) for s in env.systems or []] + [("expected", s) for s in env.expected]
    for key, system in named:
        if not any((checks / f"{system}{suffix}").is_file() for suffix in (".py", ".yaml")):
            raise ConfigurationError(f"{path}: {key}: no system named {system!r} "
                                     f"(no {CHECKS_DIR}/{system}.yaml or .py)")


def suite_arguments(config: pytest.Config, name: str, systems: list[str] | None = None) -> list[str]:
    """The run's arguments with suites/<env>[/<module>[::...]] read as the checks directory: a
    suite is an environment applied to every check (of the systems it gates), not a copy of them.
    Which environment is the run's own business (the path's <env>, or --env)."""
    suites = (config.rootpath / "suites").resolve()
    checks = (config.rootpath / CHECKS_DIR).resolve()
    arguments = []
    for arg in config.args:
        path_text, sep, rest = arg.partition("::")
        path = (Path(config.invocation_params.dir) / path_text).resolve()
        if path == checks or (path.is_relative_to(suites) and path != suites
                              and not path.is_relative_to(checks)):
            inner = path.relative_to(checks if path == checks else suites).parts[1:]
            if not inner:
                arguments += [str(p) for p in sorted([*checks.glob("*.py"), *checks.glob("*.yaml")])
                              if not p.name.startswith("_") and (systems is None or p.stem in systems)]
                continue
            module = checks.joinpath(*inner)
            arguments.append(str(module if module.exists() else module.with_suffix(".py")) + sep + rest)
        else:
            arguments.append(arg)
    return arguments
