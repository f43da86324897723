"""A declared check run in one step. pytest runs each test in three phases (set-up, call,
tear-down), each through a dozen plugins' hooks; a declared check has no fixture, so between two
checks of one runbook section its set-up and tear-down have nothing to do. The gate reports those
two as passed without calling the plugins, and runs the call as pytest does (its output and logs
captured, its report made by the run's hooks: the failure rendered, a waiver applied, secrets
masked). A set-up or tear-down that has something to do (the first check of a section, the last
one, the run stopping) runs as pytest runs it.

Any check, option or plugin that needs pytest's whole protocol still gets it: a skip or xfail
marker, a check whose markers are not valid, a debugging option (--pdb, --trace, --setup-*), a
plugin or conftest that hooks into the phases, or one that runs tests its own way (its own
runtest protocol: pytest-forked, pytest-rerunfailures).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _pytest.logging import caplog_handler_key, caplog_records_key
from _pytest.runner import call_and_report, check_interactive_exception, get_reraise_exceptions

# Plugins hooking into the phases that do nothing for a declared check: pytest's own (fixtures,
# capture, logs, skip/xfail, unraisable and thread exceptions) and two that act only on their own
# tests (hypothesis' on a test function it decorates, pytest-benchmark's on its marker).
PHASE_PLUGINS = frozenset({"runner", "skipping", "capturemanager", "logging-plugin", "threadexception",
                           "unraisableexception", "hypothesispytest", "benchmark", "runbook_checks.plugin"})
PHASE_HOOKS = ("pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown")
DEBUGGING = {"usepdb": "--pdb", "trace": "--trace", "setuponly": "--setup-only", "setupplan": "--setup-plan",
             "setupshow": "--setup-show"}  # option -> flag
MARKERS_OF_THE_PHASES = ("skip", "skipif", "xfail")
NAME = "runbook-checks-1-step"  # this plugin's, as the gate registers it


def whole_protocol_wanted_by(config: pytest.Config) -> list[str]:
    """What asks for pytest's whole protocol for every check: debugging options given, the plugins
    (conftests included) hooking into a phase that this module does not know to leave a declared
    check alone, and those running tests their own way (a runtest protocol that is no wrapper)."""
    wanted = [flag for option, flag in DEBUGGING.items() if config.getoption(option, False)]
    for name in PHASE_HOOKS:
        for impl in getattr(config.hook, name).get_hookimpls():
            if impl.plugin_name not in PHASE_PLUGINS and impl.plugin_name not in wanted:
                wanted.append(impl.plugin_name)
    for impl in config.hook.pytest_runtest_protocol.get_hookimpls():
        runs_tests = not (impl.hookwrapper or impl.wrapper) and impl.plugin_name not in ("runner", NAME)
        if runs_tests and impl.plugin_name not in wanted:
            wanted.append(impl.plugin_name)
    return wanted


class OneStep:
    """The plugin that runs a declared check in one step where nothing asks for the whole protocol;
    `invalid(item)` says what is wrong with a check's markers (None: nothing), as set-up would, and
    `mask(report)` takes the secrets out of a report made without the run's hooks."""

    def __init__(self, invalid: Callable[[pytest.Item], str | None],
                 mask: Callable[[pytest.TestReport], None]) -> None:
        self.invalid, self.mask = invalid, mask
        self.whole_protocol: list[str] | None = None  # decided at the first check, all plugins loaded

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        from runbook_checks.declared import DeclaredCheck  # loaded with the first suite collected

        if not isinstance(item, DeclaredCheck):
            return None
        if self.whole_protocol is None:
            self.whole_protocol = whole_protocol_wanted_by(item.config)
        if self.whole_protocol or _marked_for_the_phases(item) or not self._valid(item):
            return None
        run(item, nextitem, self.mask)
        return True

    def _valid(self, item: pytest.Item) -> bool:
        """Whether the check's markers are valid; an error finding out is left to the set-up of
        pytest's whole protocol, which reports it on the check."""
        try:
            return self.invalid(item) is None
        except Exception:
            return False


def _marked_for_the_phases(item: pytest.Item) -> bool:
    return any(mark.name in MARKERS_OF_THE_PHASES for mark in item.iter_markers())


def run(item: pytest.Item, nextitem: pytest.Item | None, mask: Callable[[pytest.TestReport], None]) -> None:
    """Set-up and tear-down without the plugins' hooks where they have nothing to do (the nodes
    above the check already set up; the next check under the same ones), reported as passed with
    what the check printed and logged (`mask` takes the secrets out); else run as pytest runs them.
    The call runs as pytest runs it: its output and logs captured, its report made by the hooks."""
    ihook, session, parent = item.ihook, item.session, item.parent
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reraise = get_reraise_exceptions(item.config)
    keywords = {name: 1 for name in item.keywords}
    if parent in session._setupstate.stack:
        set_up = _phase(item, "setup", lambda: session._setupstate.setup(item), reraise, keywords, mask)
        item.stash[caplog_records_key] = {}  # what pytest's logging plugin makes at set-up
    else:
        set_up = call_and_report(item, "setup").passed
    if set_up:
        call_and_report(item, "call")
    if session.shouldfail or session.shouldstop:
        nextitem = None  # everything is torn down, as pytest does, to report its errors here
    if nextitem is not None and nextitem.parent is parent:
        tear_down = lambda: session._setupstate.teardown_exact(nextitem)  # noqa: E731
        _phase(item, "teardown", tear_down, reraise, keywords, mask)
        _drop_logs(item)
    else:
        call_and_report(item, "teardown", nextitem=nextitem)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


def _drop_logs(item: pytest.Item) -> None:
    """What pytest's logging plugin drops at a test's tear-down: its records, for caplog."""
    if caplog_records_key in item.stash:
        del item.stash[caplog_records_key]
    if caplog_handler_key in item.stash:
        del item.stash[caplog_handler_key]


def _phase(item: pytest.Item, when: str, step: Callable[[], None], reraise: tuple[type[BaseException], ...],
           keywords: dict[str, int], mask: Callable[[pytest.TestReport], None]) -> bool:
    """Set-up or tear-down of the nodes around the check: reported passed as pytest would report a
    phase that did nothing, or, when it raised, by the run's hooks; whether it passed."""
    done = pytest.CallInfo.from_call(step, when=when, reraise=reraise)  # type: ignore[arg-type]
    if done.excinfo is None:
        sections = [(f"Captured {key} {phase}", text) for phase, key, text in item._report_sections]
        report = pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, when,  # type: ignore[arg-type]
                                   sections, user_properties=list(item.user_properties))
        mask(report)
    else:
        report = item.ihook.pytest_runtest_makereport(item=item, call=done)
    item.ihook.pytest_runtest_logreport(report=report)
    if check_interactive_exception(done, report):
        item.ihook.pytest_exception_interact(node=item, call=done, report=report)
    return done.excinfo is None
