"""A declared check run in one step. pytest runs each test in three phases (set-up, call,
tear-down), each through a dozen plugins' hooks for fixtures, captured output and xfail; a
declared check has none of these, so the gate calls it directly and logs the same three reports,
the call's made by the same hooks (the failure rendered, a waiver applied, secrets masked).

Any check, option or plugin that needs pytest's whole protocol still gets it: a skip or xfail
marker, a check whose markers are not valid, a debugging option (--pdb, --trace, --setup-*),
or a plugin or conftest that hooks into the phases themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _pytest.runner import check_interactive_exception, get_reraise_exceptions

# Plugins hooking into the phases that do nothing for a declared check: pytest's own (fixtures,
# capture, logs, skip/xfail, unraisable and thread exceptions) and two that act only on their own
# tests (hypothesis' on a test function it decorates, pytest-benchmark's on its marker).
PHASE_PLUGINS = frozenset({"runner", "skipping", "capturemanager", "logging-plugin", "threadexception",
                           "unraisableexception", "hypothesispytest", "benchmark", "runbook_checks.plugin"})
PHASE_HOOKS = ("pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown")
DEBUGGING = {"usepdb": "--pdb", "trace": "--trace", "setuponly": "--setup-only", "setupplan": "--setup-plan",
             "setupshow": "--setup-show"}  # option -> flag
MARKERS_OF_THE_PHASES = ("skip", "skipif", "xfail")


def whole_protocol_wanted_by(config: pytest.Config) -> list[str]:
    """What asks for pytest's whole protocol for every check: debugging options given, and the
    plugins (conftests included) hooking into a phase that this module does not know to leave a
    declared check alone."""
    wanted = [flag for option, flag in DEBUGGING.items() if config.getoption(option, False)]
    for name in PHASE_HOOKS:
        for impl in getattr(config.hook, name).get_hookimpls():
            if impl.plugin_name not in PHASE_PLUGINS and impl.plugin_name not in wanted:
                wanted.append(impl.plugin_name)
    return wanted


class OneStep:
    """The plugin that runs a declared check in one step where nothing asks for the whole protocol;
    `invalid(item)` says what is wrong with a check's markers (None: nothing), as set-up would."""

    def __init__(self, invalid: Callable[[pytest.Item], str | None]) -> None:
        self.invalid = invalid
        self.whole_protocol: list[str] | None = None  # decided at the first check, all plugins loaded

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        from runbook_checks.declared import DeclaredCheck  # loaded with the first suite collected

        if not isinstance(item, DeclaredCheck):
            return None
        if self.whole_protocol is None:
            self.whole_protocol = whole_protocol_wanted_by(item.config)
        if self.whole_protocol or _marked_for_the_phases(item) or self.invalid(item) is not None:
            return None
        run(item, nextitem)
        return True


def _marked_for_the_phases(item: pytest.Item) -> bool:
    return any(mark.name in MARKERS_OF_THE_PHASES for mark in item.iter_markers())


def run(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Set-up (the nodes above the check, which have nothing to set up), the call, and tear-down
    down to what the next check shares, each logged as pytest logs its reports."""
    ihook, session = item.ihook, item.session
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    keywords = {name: 1 for name in item.keywords}
    reraise = get_reraise_exceptions(item.config)
    if _phase(item, "setup", lambda: session._setupstate.setup(item), reraise, keywords):
        _report(item, pytest.CallInfo.from_call(item.runtest, when="call", reraise=reraise))
    if session.shouldfail or session.shouldstop:
        nextitem = None  # everything is torn down, as pytest does, to report its errors here
    _phase(item, "teardown", lambda: session._setupstate.teardown_exact(nextitem), reraise, keywords)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


def _phase(item: pytest.Item, when: str, step: Callable[[], None], reraise: tuple[type[BaseException], ...],
           keywords: dict[str, int]) -> bool:
    """Set-up or tear-down of the nodes around the check, reported passed as a phase with nothing
    to do is, or by the run's hooks when it raised; whether it passed."""
    done = pytest.CallInfo.from_call(step, when=when, reraise=reraise)  # type: ignore[arg-type]
    if done.excinfo is not None:
        _report(item, done)
        return False
    item.ihook.pytest_runtest_logreport(report=_passed(item, when, keywords))
    return True


def _report(item: pytest.Item, call: pytest.CallInfo[Any]) -> None:
    """A phase's report made and logged by the run's hooks, and a failure offered to a debugger."""
    report = item.ihook.pytest_runtest_makereport(item=item, call=call)
    item.ihook.pytest_runtest_logreport(report=report)
    if check_interactive_exception(call, report):
        item.ihook.pytest_exception_interact(node=item, call=call, report=report)


def _passed(item: pytest.Item, when: str, keywords: dict[str, int]) -> pytest.TestReport:
    """A phase that had nothing to do, reported as pytest reports one that passed."""
    return pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, when,  # type: ignore[arg-type]
                             user_properties=list(item.user_properties))

