"""The pytest plugin: picks the environment, opens targets, renders failures, keeps secrets out.

A run is a gate run when its paths lie under suites/<env>/ or --env is given; any other run
(the project's own tests, say) sees only the registered markers. `pytest suites/<env>` collects
every check module of the checks directory (suites/common) against environments/<env>.yaml, and
leaves out, with the reason, each check that needs what the environment does not offer.

Its checks raise CheckFailed and use no `assert`, so pytest need not rewrite it: the project's
conftest imports it as any module, and PYTEST_DONT_REWRITE tells pytest that this is meant.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest

from runbook_checks import progress, results
from runbook_checks.environment import (
    environment_path,
    load_environment,
    read_raw,
    stack_spec,
)
from runbook_checks.errors import ConfigurationError
from runbook_checks.expected import use_overrides
from runbook_checks.gate import GATE, Gate
from runbook_checks.log_redaction import RedactedLogs
from runbook_checks.one_step import NAME as ONE_STEP
from runbook_checks.one_step import OneStep
from runbook_checks.redaction import Redactor, UnsafeSecret, url_password, without_credentials
from runbook_checks.reporting import block, render
from runbook_checks.run_record import CheckInfo
from runbook_checks.runbooks import SEVERITIES, SYMPTOM_ID, RunbookIndex
from runbook_checks.secret_strength import Judgement
from runbook_checks.selection import MARKER as NEEDS_MARKER
from runbook_checks.selection import left_out, unknown_capabilities
from runbook_checks.suites import (
    CHECKS_DIR,
    env_option_file,
    environment_name,
    known_systems,
    suite_arguments,
)
from runbook_checks.verdict import blocking, blocks, needless, refusal, waiver_lines
from runbook_checks.waivers import Waivers

if TYPE_CHECKING:
    from runbook_checks.environment import (
        Environment,
        StackSpec,
    )
    from runbook_checks.targets.registry import Targets
    from runbook_harness.control import StackHandle

MARKERS = (
    "runbook(ref): the runbook section this check guards, as <runbook>#<anchor>",
    f"severity(level): how bad the symptom is: {', '.join(SEVERITIES)}",
    "symptom(id, text): the SYMPTOMS id the check guards (<runbook>.<n>, shared with its faults) and "
    "what a person sees when it fails (an error message, a behaviour)",
    NEEDS_MARKER,
    "catalog(database, *sections, tables=[], columns=[]): what of a database's catalog this Python "
    "check reads (`*`: every database's; sections as in facts/scope.py); catalog() with no argument: "
    "none. Without one, a run that collects the check reads every catalog whole",
    # pytest-xdist's own, set on every check (its system's group) whether or not xdist is loaded
    "xdist_group(name): the checks of one system run on one pytest-xdist worker (--dist loadgroup)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runbook-checks")
    group.addoption("--env", dest="rc_env", default=None,
                    help="environment to check: NAME (environments/NAME.yaml) or --env=PATH to a .yaml "
                         "file; default: the NAME of suites/<NAME>")
    group.addoption("--keep-stack", dest="rc_keep_stack", action="store_true",
                    help="leave a reference stack this run started running afterwards")
    group.addoption("--fail-on", dest="rc_fail_on", default="low", choices=SEVERITIES,
                    help="the least severity whose failure fails the run (exit 1); failures below it are "
                         "listed and leave the exit status 0 (default: low, every failure fails)")
    group.addoption("--compare", dest="rc_compare", default=None, metavar="PREVIOUS.json",
                    help="print what is new, fixed, still failing and flapping since the run whose "
                         "result file this is (a result-<env>.json of an earlier run)")
    group.addoption("--result-json", dest="rc_result_json", default=None, metavar="PATH",
                    help="where to write the run's JSON result (default: result-<env>.json beside "
                         "the JUnit file)")
    group.addoption("--progress", dest="rc_progress", default="auto", choices=("auto", "always", "never"),
                    help="say what a long run waits on (auto: on a terminal, outside CI)")
    group.addoption("--plan", dest="rc_plan", action="store_true",
                    help="with --collect-only: collect against a plan of the environment (variables not set "
                         "get placeholders, no stack is started, nothing is reached)")
    group.addoption("--strict-runbooks", dest="rc_strict_runbooks", action="store_true",
                    help="stop the run when a configured runbook cannot be read (default: a warning)")
    parser.addini("runbooks", type="linelist", default=[],
                  help="where each runbook lives: lines of NAME=PATH-OR-URL")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    name = environment_name(config)
    if name is None:
        return
    # What a gate run's start-up builds (the environment, its targets, the collected checks) lives
    # for the whole run: the collector would only walk it again and again. It is back, all of that
    # frozen, once the checks are collected (pytest_collection_finish) or the run ends.
    gc.disable()
    root = config.rootpath
    path = env_option_file(config) or environment_path(root, name)
    plan = bool(config.option.rc_plan)
    if plan and not config.option.collectonly:
        raise pytest.UsageError("--plan only collects: add --collect-only")
    stack = None
    try:
        raw = read_raw(path)
        runbooks = RunbookIndex.from_lines(config.getini("runbooks"), root)
        if config.option.rc_strict_runbooks and runbooks.unreadable():
            raise ConfigurationError("\n".join(runbooks.unreadable()))
        spec = stack_spec(raw, path, root)
        if spec is not None and spec.autostart and not plan:
            stack = _start_stack(spec, root, bool(config.option.rc_keep_stack), config.option.collectonly)
        # A run that only collects reaches nothing: the client libraries judge the values of one that checks.
        env, variables = load_environment(path, root, plan, with_clients=not config.option.collectonly,
                                          raw=raw)
        known_systems(env, path, root / CHECKS_DIR)
        redactor = _redactor(env, variables)
        previous = _previous_result(config.option.rc_compare, Path(config.invocation_params.dir))
        secrets = Judgement(redactor.unguessed)  # on another core while the run goes on
        if stack is not None:
            _interrupt_on_termination()
        from runbook_checks.targets.registry import Targets

        gate = Gate(env, Targets(env, redactor), redactor, runbooks, stack, RedactedLogs(redactor), secrets)
        gate.waivers, gate.previous = Waivers.of(env.waivers), previous
        gate.fail_on = config.option.rc_fail_on
        config.stash[GATE] = gate
        # Also a cleanup: pytest runs those even when an interrupt broke off the unconfigure hooks.
        config.add_cleanup(lambda: _let_go(gate))
    except BaseException as error:  # an interrupt too: the stack this run started does not outlive it
        made = config.stash.get(GATE, None)
        if made is not None:
            made.let_go = True  # let go of here: not again by pytest_unconfigure or the cleanup
        if stack is not None:
            stack.release()
        if isinstance(error, ConfigurationError):
            raise pytest.UsageError(without_credentials(str(error))) from None
        raise
    gate.logs.install()
    config.pluginmanager.register(_RunObserver(gate), "runbook-checks-run")
    config.pluginmanager.register(OneStep(lambda item: markers_problem(item, gate),
                                          lambda report: _mask(report, gate.redactor)), ONE_STEP)
    use_overrides(env.expected)
    config.args = suite_arguments(config, name, env.systems)
    if not config.option.xmlpath and not config.option.collectonly:
        config.option.xmlpath = str(root / "reports" / f"junit-{name}.xml")


def _previous_result(option: str | None, invoked_in: Path) -> dict[str, Any] | None:
    """The earlier run's result `--compare` names; one that cannot be read stops the run."""
    if option is None:
        return None
    try:
        return results.read(invoked_in / option)
    except ValueError as error:
        raise ConfigurationError(f"--compare: {error}") from None


def _interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP (a cancelled CI job, a closed terminal) end the run as Ctrl-C does, so
    the stack it holds is let go of; pytest leaves them to kill the process outright."""
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.default_int_handler)


def _redactor(env: Environment, variables: dict[str, str]) -> Redactor:
    """A redactor of every secret the environment declares or reads; one too short to mask safely
    is a configuration error naming where it is declared; how guessable each is, is judged apart
    (`unguessed`: secret_strength.Judgement)."""
    redactor = Redactor(guess_later=True)
    try:  # the declared secrets first, so that a weak one is named by its key and its variable
        for key, value in env.secret_values().items():
            secret = url_password(value) or value
            sources = [name for name, variable in variables.items()
                       if variable in (value, secret, unquote(secret))]
            redactor.add(value, f"{key} (from {' or '.join(sources)})" if sources else key, strict=True)
        for key, value in variables.items():
            redactor.add_variable(key, value, strict=True)
    except UnsafeSecret as error:
        raise ConfigurationError(f"{env.source}: {error}") from None
    return redactor


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A system's YAML in the checks directory holds declared checks (`checks:`)."""
    if (file_path.suffix == ".yaml" and _gate(parent.config) is not None
            and file_path.parent == (parent.config.rootpath / CHECKS_DIR).resolve()):
        from runbook_checks.declared import DeclaredChecks

        return DeclaredChecks.from_parent(parent, path=file_path)
    return None


def _start_stack(spec: StackSpec, root: Path, keep: bool, collect_only: bool) -> StackHandle:
    """The reference stack an environment declares; the harness is imported only here."""
    try:
        from runbook_harness.control import ensure_stack
    except ImportError:
        raise ConfigurationError(
            "this environment declares a reference stack, but the harness is not installed: "
            "pip install -e ./harness (a production install does not need it)") from None
    return ensure_stack(spec, root, keep, collect_only)


def _gate(config: pytest.Config) -> Gate | None:
    return config.stash.get(GATE, None)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The run lets go first, before another plugin's unconfigure hook could be interrupted."""
    gate = _gate(config)
    if gate is not None:
        _let_go(gate)


def _let_go(gate: Gate) -> None:
    """Ends what the run holds and lets go of the reference stack it started, once: from the
    unconfigure hook, or from the config's cleanup where an interrupt broke off the hooks."""
    if gate.let_go:
        return
    gate.let_go = True
    gc.enable()  # a run that ended before its checks were collected
    interrupted = gate.interrupted
    progress = [gate.progress.stop] if gate.progress is not None else []
    endings = [gate.secrets.close, *progress, gate.targets.close, gate.logs.uninstall]
    for end in endings:
        try:
            end()
        except KeyboardInterrupt:  # the rest still ends, and the stack is let go of
            interrupted = True
    if gate.stack is not None and gate.stack.release() and interrupted:
        print(f"runbook-checks: interrupted; stopped the reference stack in {gate.stack.directory}",
              file=sys.stderr)


def _marker_value(item: pytest.Item, name: str) -> str | None:
    marker = item.get_closest_marker(name)
    return str(marker.args[0]) if marker and marker.args else None


_MARKED = pytest.StashKey[tuple[str | None, str | None, str | None, str | None]]()


def _marked(item: pytest.Item) -> tuple[str | None, str | None, str | None, str | None]:
    """The check's runbook section, severity, symptom id and symptom text, as its markers say."""
    return (_marker_value(item, "runbook"), _marker_value(item, "severity"), *symptom_of(item))


def symptom_of(item: pytest.Item) -> tuple[str | None, str | None]:
    """The check's symptom id and text, from its closest `symptom(id, text)` marker."""
    marker = item.get_closest_marker("symptom")
    if marker is None or len(marker.args) != 2:
        return None, None
    return str(marker.args[0]), str(marker.args[1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gate = _gate(config)
    if gate is None:
        return
    for item in items:
        item.stash[_MARKED] = marked = _marked(item)
        properties = list(zip(("runbook", "severity", "symptom_id", "symptom"), marked, strict=True))
        item.user_properties += [(k, v) for k, v in properties if v is not None]
        item.user_properties.append(("environment", gate.env.name))
        gate.record.checks[item.nodeid] = CheckInfo(*(value or "?" for _, value in properties))
        item.add_marker(pytest.mark.xdist_group(PurePosixPath(item.nodeid.split("::")[0]).stem))
        _note_waiver(gate, item.nodeid, marked[2])
        needs = [(m.args, m.kwargs) for m in item.iter_markers("needs")]
        unknown = unknown_capabilities(needs)
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown capability in @pytest.mark.needs: "
                                    f"{', '.join(unknown)}")
        reasons = left_out(gate.env, needs)
        if reasons:
            item.add_marker(pytest.mark.skip(reason=f"{_LEFT_OUT}{'; '.join(reasons)}"))


_LEFT_OUT = "left out: "


def _note_left_out(gate: Gate, items: list[pytest.Item]) -> None:
    """The checks a run that only collects would leave out, and why, for its summary (a run
    notes them from their reports)."""
    for item in items:
        for mark in item.iter_markers("skip"):
            reason = str(mark.kwargs.get("reason", ""))
            if reason.startswith(_LEFT_OUT):
                gate.left_out[reason.removeprefix(_LEFT_OUT)].append(item.nodeid)


def _note_waiver(gate: Gate, nodeid: str, symptom_id: str | None) -> None:
    if nodeid not in gate.waiver_of:
        waiver = gate.waivers.for_check(nodeid, symptom_id)
        if waiver is not None:
            gate.waiver_of[nodeid] = waiver


class _RunObserver:
    """Takes in each check's reports where the run's summary is written: in the one process, or in
    the controller of pytest-xdist's workers, whose reports carry the check's markers as properties."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        gate, properties = self.gate, dict(report.user_properties)
        if "environment" not in properties:
            return
        nodeid = report.nodeid
        if nodeid not in gate.record.checks:
            gate.record.checks[nodeid] = CheckInfo(*(str(properties.get(key) or "?") for key in
                                                     ("runbook", "severity", "symptom_id", "symptom")))
        _note_waiver(gate, nodeid, str(properties.get("symptom_id") or ""))
        if report.skipped and "waived" in properties:
            gate.record.waived[nodeid] = gate.waiver_of[nodeid]
        if "waiver_refused" in properties:
            gate.refused[nodeid] = str(properties["waiver_refused"])
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            if reason.startswith(_LEFT_OUT):
                gate.left_out[reason.removeprefix(_LEFT_OUT)].append(nodeid)
        if report.failed:
            severity, ref = (str(properties.get(key) or "?") for key in ("severity", "runbook"))
            gate.failures.append((severity, ref, nodeid))
        gate.record.add(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A pytest-xdist worker is done: the queries it sent count in the run's."""
        self.gate.worker_queries += int(getattr(node, "workeroutput", {}).get("rc_queries", 0))


def pytest_sessionstart(session: pytest.Session) -> None:
    gate = _gate(session.config)
    if gate is not None and progress.wanted(session.config.option.rc_progress, sys.stdout):
        gate.progress = progress.Progress(progress.terminal(sys.stdout))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Every target is reached at once before the first check, so that dead ones cost their
    timeout in parallel rather than in turn."""
    gate = _gate(session.config)
    if gate is not None:
        gc.freeze()
        gc.enable()
        _refuse_guessable_secrets(gate)
        if session.config.option.collectonly:
            _note_left_out(gate, session.items)
    if gate is None or not session.items or session.config.option.collectonly:
        return
    if gate.progress is not None:
        gate.progress.start(Counter(_system(item.nodeid) for item in session.items))
    from runbook_checks.declared import catalog_scopes

    try:
        gate.targets.scope_catalogs(catalog_scopes(session.items))
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None
    gate.targets.reach_all(_reaching(gate))
    if gate.progress is not None:
        gate.progress.waiting_on("")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Before the first check, also where the run collects nothing itself (pytest-xdist's controller)."""
    gate = _gate(session.config)
    if gate is not None:
        _refuse_guessable_secrets(gate)


def _refuse_guessable_secrets(gate: Gate) -> None:
    """The verdict on how guessable the environment's secrets are: one guessers try first stops the
    run, as does a verdict that could not be had."""
    try:
        gate.secrets.raise_if_guessable()
    except (UnsafeSecret, ConfigurationError) as error:
        raise pytest.UsageError(without_credentials(f"{gate.env.source}: {error}")) from None


def _reaching(gate: Gate) -> Callable[[list[str]], None] | None:
    shown = gate.progress
    if shown is None:
        return None
    return lambda pending: shown.waiting_on(f"{', '.join(pending)} (reaching every target first)")


def _system(nodeid: str) -> str:
    return PurePosixPath(nodeid.split("::")[0]).stem


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    gate = _gate(item.config)
    shown = gate.progress if gate is not None else None
    if shown is not None:
        shown.waiting_on(f"the check {item.nodeid.removeprefix(CHECKS_DIR + '/')}")
    yield
    if shown is not None:
        shown.finished(_system(item.nodeid))


def pytest_runtest_setup(item: pytest.Item) -> None:
    gate = _gate(item.config)
    problem = markers_problem(item, gate) if gate is not None else None
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def markers_problem(item: pytest.Item, gate: Gate) -> str | None:
    """What is wrong with a check's runbook, severity and symptom markers (None: nothing): such a
    check fails at set-up with it."""
    ref, severity, symptom_id, _ = item.stash.get(_MARKED, None) or _marked(item)
    if ref is None or severity is None or symptom_id is None:
        return ("a check in a suite names its runbook section, severity and symptom: add "
                "@pytest.mark.runbook('<runbook>#<anchor>'), @pytest.mark.severity(...) and "
                "@pytest.mark.symptom('<runbook>.<n>', 'what people see')")
    problem = gate.runbooks.problem(ref)
    if problem:
        return f"runbook reference: {problem}"
    match = SYMPTOM_ID.match(symptom_id)
    if match is None or match.group(1) != ref.partition("#")[0]:
        return f"symptom id {symptom_id!r} is not <runbook>.<n> of the runbook {ref!r} names"
    if severity not in SEVERITIES:
        return f"severity {severity!r} is not one of {', '.join(SEVERITIES)}"
    return None


def symptom_line(item: pytest.Item, gate: Gate) -> str:
    ref = _marker_value(item, "runbook") or "?"
    text = symptom_of(item)[1] or item.name
    return f"{text}  [{gate.runbooks.describe(ref)}]"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    gate = _gate(item.config)
    if gate is None:
        return
    report: pytest.TestReport = outcome.get_result()
    if report.failed and call.excinfo is not None and not isinstance(report.longrepr, str):
        error = call.excinfo.value
        if isinstance(error, pytest.fail.Exception):
            report.longrepr = str(error)
        else:
            report.longrepr = render(symptom_line(item, gate), error)
    waiver = gate.waiver_of.get(item.nodeid)
    if report.failed and waiver is not None and call.excinfo is not None:
        why_not = refusal(waiver, call.excinfo.value, gate)
        if why_not is None:
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, f"waived: {waiver.describe()}")
            report.user_properties = [*report.user_properties, ("waived", waiver.check)]
        else:
            report.longrepr = f"{report.longrepr}\n{block([('waiver', why_not)])}"
            report.user_properties = [*report.user_properties, ("waiver_refused", why_not)]
    _mask(report, gate.redactor)


def _mask(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    """The report's failure text, skip reason and captured sections, with secrets masked."""
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        path, line, reason = report.longrepr
        report.longrepr = (path, line, redactor(reason))
    elif report.longrepr is not None:
        report.longrepr = redactor(str(report.longrepr))
    report.sections = [(title, redactor(text)) for title, text in report.sections]


def _severity_rank(failure: tuple[str, str, str]) -> int:
    return SEVERITIES.index(failure[0]) if failure[0] in SEVERITIES else len(SEVERITIES)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    gate = _gate(config)
    if gate is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"runbook-checks: {gate.env.name}")
    write(f"postgres queries sent: {gate.targets.queries_sent() + gate.worker_queries}")
    for reason, nodeids in gate.left_out.items():
        write(f"left out: {len(nodeids)} check(s): {reason}")
        for nodeid in nodeids:
            write(f"  {nodeid}")
    for line in gate.runbooks.unreadable():
        write(f"warning: {line}")
    for name in sorted(gate.redactor.unmaskable):
        write(f"warning: {name} holds a secret too short or common to mask safely; output may show it")
    if exitstatus == pytest.ExitCode.USAGE_ERROR:  # refused before the first check (a guessable secret)
        write("gate FAILED: stopped before any check ran; see the error above")
        return
    if config.option.collectonly:
        write(f"collected only: {terminalreporter._session.testscollected} check(s), none run")
        return
    if terminalreporter._session.testscollected == 0:
        errors = len(terminalreporter.stats.get("error", []))
        write(f"gate FAILED: {errors} error(s) before any check ran; see above" if errors
              else "no check was collected: a gate that checks nothing fails")
        return
    for line in waiver_lines(gate, {check.id for check in gate.results if check.status == "passed"}):
        write(line)
    for line in gate.comparison:
        write(line)
    if gate.result_path is not None:
        write(f"result: {gate.result_path} (and as a page: {gate.result_path.with_suffix('.html')})")
    if not gate.failures:
        if exitstatus == 0:
            write("gate passed: every check holds" + (" or is waived" if gate.record.waived else ""))
        else:
            write(f"gate FAILED: the run did not complete (exit {int(exitstatus)}); "
                  "see the errors above")
        return
    _write_failures(write, gate)
    if gate.stack is not None and gate.stack.started_here:
        write(block([("stack", f"started for this run in {gate.stack.directory}")]))


def _write_failures(write: Any, gate: Gate) -> None:
    """The verdict line at the run's --fail-on severity, then every failure, worst first."""
    by_severity = Counter(severity for severity, _, _ in gate.failures)
    counts = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES if by_severity[s])
    if blocking(gate):
        write(f"gate FAILED: {counts}")
    else:
        write(f"gate passed at --fail-on {gate.fail_on}: every failure ({counts}) is below it")
    for severity, ref, nodeid in sorted(gate.failures, key=_severity_rank):
        below = "" if blocks(severity, gate.fail_on) else f"  [below --fail-on {gate.fail_on}]"
        write(f"  {severity:<9}{gate.runbooks.describe(ref)}  ({nodeid}){below}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Masks every report once more with all the secrets the run came to know (some are read only
    as checks run), before the summary prints them; and the JUnit file, after it is written."""
    gate = _gate(session.config)
    if gate is None:
        return
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: the controller sums them
        session.config.workeroutput["rc_queries"] = gate.targets.queries_sent()
    gate.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for reports in (reporter.stats.values() if reporter is not None else ()):
        for report in reports:
            if isinstance(report, (pytest.TestReport, pytest.CollectReport)):
                _mask(report, gate.redactor)
    xmlpath = session.config.option.xmlpath
    if xmlpath and os.path.isfile(xmlpath):
        text = Path(xmlpath).read_text()
        masked = _masked_junit(text, gate.redactor)
        if masked != text:
            Path(xmlpath).write_text(masked)
    if not session.config.option.collectonly and gate.record.checks:
        if session.exitstatus == pytest.ExitCode.TESTS_FAILED and gate.failures and not blocking(gate):
            session.exitstatus = pytest.ExitCode.OK
        _write_result(session, gate)


def _write_result(session: pytest.Session, gate: Gate) -> None:
    """The run's JSON result (beside the JUnit file, or where --result-json says), and what
    changed since the run --compare names."""
    from runbook_checks import comparison, html_report
    from runbook_checks.run_coverage import run_coverage

    gate.results = gate.record.results(gate.runbooks)
    results.with_history(gate.results, gate.previous)
    data = results.result(gate.env.name, gate.started, time.monotonic() - gate.clock, gate.fail_on,
                          int(session.exitstatus), gate.results, _waiver_report(gate),
                          run_coverage(session.config.rootpath, gate.results, gate.runbooks))
    path = _result_path(session.config, gate.env.name)
    if path is not None:
        results.write(data, path)
        html_report.write(data, path.with_suffix(".html"))
        gate.result_path = path
    if gate.previous is not None:
        gate.comparison = comparison.lines(comparison.compare(gate.previous, data), gate.previous)


def _result_path(config: pytest.Config, env_name: str) -> Path | None:
    if config.option.rc_result_json:
        return Path(config.invocation_params.dir) / config.option.rc_result_json
    xmlpath = config.option.xmlpath
    return Path(xmlpath).with_name(f"result-{env_name}.json") if xmlpath else None


def _waiver_report(gate: Gate) -> dict[str, list[Any]]:
    passed = {check.id for check in gate.results if check.status == "passed"}
    return {"unmatched": [w.model_dump(mode="json") for w in gate.waivers.unmatched()],
            "passing": sorted(nodeid for nodeids in needless(gate, passed).values() for nodeid in nodeids),
            "expired": sorted(nodeid for nodeid, why in gate.refused.items() if why.startswith("expired"))}


# A check's name in the JUnit file, kept as the console shows it (CI history is keyed on it).
_JUNIT_NAMES = re.compile(r'(\s(?:classname|name|file)="[^"]*")')


def _masked_junit(text: str, redactor: Redactor) -> str:
    if not redactor.may_change(text):
        return text
    parts = _JUNIT_NAMES.split(text)
    return "".join(part if index % 2 else redactor(part) for index, part in enumerate(parts))


def _targets(request: pytest.FixtureRequest) -> Targets:
    gate = _gate(request.config)
    if gate is None:
        pytest.fail("this fixture is for suites/<env> runs (or pass --env NAME)", pytrace=False)
    return gate.targets


@pytest.fixture(scope="session")
def environment(request: pytest.FixtureRequest) -> Environment:
    """The environment this run checks."""
    return _targets(request).env


@pytest.fixture(scope="session")
def targets(request: pytest.FixtureRequest) -> Targets:
    """The run's targets: .postgres(name), .redis(name), .app(name), .app_config(name)."""
    return _targets(request)
