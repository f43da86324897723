"""The log checks over real files read through a local:// host (tail within its byte bound), and
over the JSON log the practiceops API itself writes: each boundary, each way a line cannot be read,
and each message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from runbook_checks.checks.log_lines import timestamp
from runbook_checks.checks.logs import events_at_most, no_error_within, structured
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.hosts import LogTail
from runbook_checks.targets.hosts import LINE_BYTES, HostTarget

EVENT = "rate_limit_exceeded"


def line(age: timedelta, level: str = "info", event: str = "request_completed", **more: object) -> str:
    stamp = (datetime.now(UTC) - age).isoformat(timespec="milliseconds")
    return json.dumps({"timestamp": stamp, "level": level, "event": event, **more})


def tail_of(path: Path, lines: int = 100) -> LogTail:
    return HostTarget("machine", "local://", Timeouts()).log_tail(str(path), lines)


def written(tmp_path: Path, *lines: str, end: str = "\n") -> Path:
    path = tmp_path / "api.log"
    path.write_text("\n".join(lines) + (end if lines else ""))
    return path


def failure(check: object, *args: object) -> CheckFailed:
    with pytest.raises(CheckFailed) as raised:
        check(*args)  # type: ignore[operator]
    assert raised.value.expected and raised.value.found and raised.value.fix
    return raised.value


# --- reading the tail through the host


def test_the_tail_is_the_last_lines_oldest_first_with_the_hosts_clock(tmp_path: Path) -> None:
    path = written(tmp_path, *(line(timedelta(minutes=9 - i), event=f"e{i}") for i in range(10)))
    tail = tail_of(path, 4)
    assert [json.loads(text)["event"] for text in tail.lines] == ["e6", "e7", "e8", "e9"]
    assert not tail.whole and tail.limit == 4
    assert abs(tail.now - datetime.now(UTC).timestamp()) < 5
    whole = tail_of(path, 10)
    assert whole.whole and len(whole.lines) == 10


def test_a_last_line_without_its_end_is_read(tmp_path: Path) -> None:
    tail = tail_of(written(tmp_path, line(timedelta(0)), "plain", end=""))
    assert tail.lines[-1] == "plain" and tail.whole


def test_a_missing_file_is_unreadable_and_fails_each_check(tmp_path: Path) -> None:
    tail = tail_of(tmp_path / "gone.log")
    assert tail.unreadable is not None and "No such file or directory" in tail.unreadable
    for check, args in ((structured, ()), (no_error_within, (24,)), (events_at_most, (EVENT, 5, 60))):
        found = failure(check, tail, *args)
        assert found.found.startswith(f"cannot read {tmp_path / 'gone.log'} on machine: tail: cannot open")
        assert "LOG_FILE" in found.fix


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000")
def test_an_unreadable_file_fails(tmp_path: Path) -> None:
    path = written(tmp_path, line(timedelta(0)))
    path.chmod(0)
    assert "Permission denied" in (tail_of(path).unreadable or "")


def test_an_empty_log_fails_each_check(tmp_path: Path) -> None:
    tail = tail_of(written(tmp_path))
    for check, args in ((structured, ()), (no_error_within, (24,)), (events_at_most, (EVENT, 5, 60))):
        assert failure(check, tail, *args).found == f"{tmp_path / 'api.log'} on machine is empty: the app " \
                                                     "writes its log elsewhere, or nothing"


def test_a_huge_last_line_is_never_read_whole(tmp_path: Path) -> None:
    path = written(tmp_path, line(timedelta(0)), line(timedelta(0), event="x" * (3 * LINE_BYTES)))
    tail = tail_of(path, 1)
    assert tail.lines == () and tail.oversized == LINE_BYTES
    found = failure(structured, tail)
    assert found.found == (f"the last line of {path} on machine alone is longer than 2 KiB: it cannot be "
                           "read whole")


def test_a_huge_older_line_cuts_the_tail_short(tmp_path: Path) -> None:
    path = written(tmp_path, line(timedelta(hours=2), event="x" * (3 * LINE_BYTES)), line(timedelta(0)))
    tail = tail_of(path, 2)
    assert len(tail.lines) == 1 and not tail.whole
    found = failure(no_error_within, tail, 1)
    assert found.found.startswith("the last 1 lines read reach back only to ")
    assert found.found.endswith(" h ago")
    assert "thresholds.log_lines" in found.fix


# --- structured


def test_json_lines_with_zoned_times_and_levels_pass(tmp_path: Path) -> None:
    structured(tail_of(written(tmp_path, line(timedelta(0)), json.dumps(
        {"@timestamp": "2026-01-02T10:30:00Z", "severity": "INFO", "msg": "ok"}))))


@pytest.mark.parametrize(("text", "said"), [
    ("Traceback (most recent call last):", "not JSON: 'Traceback (most recent call last):'"),
    ("[1, 2]", "JSON but not an object (a list)"),
    ('"just a string"', "JSON but not an object (a string)"),
    ("", "empty"),
    ('{"level": "info", "event": "x"}', "no time (timestamp, @timestamp, time)"),
    ('{"timestamp": "2026-01-02T10:30:00", "level": "info"}',
     "timestamp '2026-01-02T10:30:00' has no zone offset (local time of which zone?)"),
    ('{"timestamp": "02/01/2026 10:30", "level": "info"}',
     "timestamp '02/01/2026 10:30' is not an ISO 8601 time"),
    ('{"timestamp": 1767349800, "level": "info"}', "timestamp is not an ISO 8601 string: a number"),
    ('{"timestamp": "2026-01-02T10:30:00+00:00", "event": "x"}',
     "no level (level, levelname, severity, log.level)"),
])
def test_a_line_that_is_not_a_structured_record_fails(tmp_path: Path, text: str, said: str) -> None:
    path = written(tmp_path, line(timedelta(0)), text)
    found = failure(structured, tail_of(path))
    assert found.expected == (f"the last 100 lines of {path} on machine each a JSON object with a time "
                              "(ISO 8601 with offset) and a level")
    assert found.found == f"1 of 2 not:\nline 2: {said}"
    assert found.fix.startswith("make everything that writes to the log write JSON lines")


def test_a_failure_names_five_lines_and_counts_the_rest(tmp_path: Path) -> None:
    path = written(tmp_path, *(f"plain {i}" for i in range(8)))
    found = failure(structured, tail_of(path, 7))
    assert found.found.splitlines() == ["7 of 7 not:", *(f"line {i} of the last 7: not JSON: 'plain {i}'"
                                                         for i in range(1, 6)), "... and 2 more"]


def test_a_quoted_line_is_cut_and_hides_a_url_password(tmp_path: Path) -> None:
    text = "connect postgresql://app:hunter2hunter2@db:5432/app failed " + "y" * 200
    found = failure(structured, tail_of(written(tmp_path, text)))
    assert "hunter2hunter2" not in found.found and "postgresql://app:[redacted]@db" in found.found
    assert found.found.endswith("...'") and "y" * 100 not in found.found


# --- no error within the window


def test_no_error_within_the_window_passes(tmp_path: Path) -> None:
    no_error_within(tail_of(written(tmp_path, line(timedelta(hours=25), "error"), line(timedelta(0)))), 24)


@pytest.mark.parametrize("record", [
    {"level": "error"}, {"level": "CRITICAL"}, {"levelname": "Fatal"}, {"level": 50}, {"level": 60},
    {"level": "info", "exc_info": "Traceback ..."}, {"severity": "EMERGENCY"},
])
def test_an_error_line_fails(tmp_path: Path, record: dict[str, object]) -> None:
    stamp = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    record = {"timestamp": stamp, "event": "boom", **record}
    path = written(tmp_path, line(timedelta(hours=3)), json.dumps(record))
    found = failure(no_error_within, tail_of(path), 24)
    assert found.expected == f"no error in the last 24 h of {path} on machine"
    assert found.found.startswith(f"1 error line(s):\nline 2: {stamp}") and found.found.endswith(" 'boom'")
    assert found.fix.endswith("the check looks back 24 h")


@pytest.mark.parametrize("level", ["warning", 40, "information", None])
def test_other_levels_are_not_errors(tmp_path: Path, level: object) -> None:
    no_error_within(tail_of(written(tmp_path, json.dumps(
        {"timestamp": datetime.now(UTC).isoformat(), "level": level, "event": "x"}))), 24)


def test_an_error_exactly_as_old_as_the_window_counts(tmp_path: Path) -> None:
    now = float(int(datetime.now(UTC).timestamp()))  # whole seconds: the time read back is exact
    stamp = datetime.fromtimestamp(now - 24 * 3600, UTC).isoformat()
    tail = tail_of(written(tmp_path, json.dumps({"timestamp": stamp, "level": "error", "event": "edge"})))
    exact = LogTail(tail.host, tail.path, tail.limit, tail.lines, tail.whole, now)
    assert "1 error line(s)" in failure(no_error_within, exact, 24).found
    just_older = LogTail(tail.host, tail.path, tail.limit, tail.lines, tail.whole, now + 0.001)
    no_error_within(just_older, 24)


def test_a_line_whose_time_cannot_be_read_fails_the_window(tmp_path: Path) -> None:
    path = written(tmp_path, line(timedelta(0)), '{"level": "error", "timestamp": "yesterday"}')
    found = failure(no_error_within, tail_of(path), 24)
    assert found.found == ("1 of 2 line(s) whose time cannot be read (any may be what is looked for):\n"
                           "line 2: timestamp 'yesterday' is not an ISO 8601 time")


def test_lines_that_do_not_reach_back_over_the_window_fail(tmp_path: Path) -> None:
    path = written(tmp_path, *(line(timedelta(hours=1)) for _ in range(5)))
    found = failure(no_error_within, tail_of(path, 4), 24)
    assert found.found.startswith("the last 4 lines read reach back only to ")
    no_error_within(tail_of(path, 5), 24)  # the whole file: nothing before it to see


# --- rate-limit events


def test_events_up_to_the_threshold_pass_and_one_more_fails(tmp_path: Path) -> None:
    lines = [line(timedelta(minutes=90), event=EVENT),
             *(line(timedelta(minutes=minutes), event=EVENT) for minutes in (7, 6, 5)), line(timedelta(0))]
    path = written(tmp_path, *lines)
    events_at_most(tail_of(path), EVENT, 3, 60)
    found = failure(events_at_most, tail_of(path), EVENT, 2, 60)
    assert found.expected == f"at most 2 {EVENT} events in the last 60 min of {path} on machine"
    assert found.found.startswith("3, the newest at ") and found.found.endswith("(line 4)")
    assert "block an attacker" in found.fix
    assert "4, the newest" in failure(events_at_most, tail_of(path), EVENT, 2, 120).found


# --- the app's own log


@pytest.fixture
def practiceops_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The practiceops API on a free loopback port, writing its JSON log into tmp_path."""
    from runbook_harness.processes import free_port, wait_port

    port, log = free_port(), tmp_path / "practiceops-api.log"
    env = {**os.environ, "LOG_FILE": str(log), "AUTH_RATE_LIMIT": "2/minute", "DATABASE_URL": ""}
    with (tmp_path / "stderr").open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "runbook_harness.apps", "practiceops-api",
                                    "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port("practiceops-api", "127.0.0.1", port, process.pid, tmp_path / "stderr", 20)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(10)


def test_the_apps_log_is_structured_and_counts_its_refusals(practiceops_api: tuple[str, Path]) -> None:
    url, log = practiceops_api
    for attempt in range(4):  # the first failure answered 401; the one reaching the limit and later refused
        requests.post(f"{url}/auth/login", data={"username": "u", "password": "p"}, timeout=10,
                      headers={"X-Request-ID": f"r{attempt}"})
    tail = tail_of(log)
    structured(tail)
    no_error_within(tail, 24)
    events_at_most(tail, EVENT, 3, 60)
    found = failure(events_at_most, tail, EVENT, 2, 60)
    assert found.found.startswith("3, the newest")
    refused = [json.loads(text) for text in tail.lines if EVENT in text]
    assert [r["request_id"] for r in refused] == ["r1", "r2", "r3"]
    assert {r["client_ip"] for r in refused} == {"127.0.0.1"} and "password" not in log.read_text()


# --- each boundary and each message whole, on facts: a tail as the host reads it, its clock fixed

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
LOG = "/var/log/api.log"


def at(seconds_ago: float, **record: object) -> str:
    return json.dumps({"timestamp": datetime.fromtimestamp(NOW - seconds_ago, UTC).isoformat(), **record})


def facts(*lines: str, whole: bool = True, **more: object) -> LogTail:
    return LogTail("machine", LOG, 100, lines, whole, NOW, **more)  # type: ignore[arg-type]


def whole(check: object, *args: object) -> tuple[str, str, str]:
    raised = failure(check, *args)
    return raised.expected, raised.found, raised.fix


@pytest.fixture
def clock_not_on_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The gate's own clock nine hours east of UTC: a time shown must still be UTC."""
    monkeypatch.setenv("TZ", "XYZ-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_each_way_a_file_cannot_be_read_fails_whole() -> None:
    expected = f"no error in the last 24 h of {LOG} on machine"
    assert whole(no_error_within, facts(unreadable="Permission denied"), 24) == (
        expected, f"cannot read {LOG} on machine: Permission denied",
        "check that the app writes its log there (its LOG_FILE or logging configuration) and that the gate "
        "may read it, or correct the log's path")
    assert whole(no_error_within, facts(oversized=4096), 24) == (
        expected, f"the last line of {LOG} on machine alone is longer than 4 KiB: it cannot be read whole",
        "find what writes such a line (a dump, a payload logged whole) and log less of it")
    assert whole(no_error_within, facts(), 24) == (
        expected, f"{LOG} on machine is empty: the app writes its log elsewhere, or nothing",
        "point the app's logging at this file (LOG_FILE), or correct the log's path")


def test_lines_reaching_back_exactly_over_the_window_cover_it(clock_not_on_utc: None) -> None:
    no_error_within(facts(at(3600, level="info"), at(0, level="info"), whole=False), 1)
    short = facts(at(36185, level="info"), whole=False)  # 10.05 h: shown as 10.1, never 10.0
    assert whole(no_error_within, short, 24) == (
        f"no error in the last 24 h of {LOG} on machine",
        "the last 1 lines read reach back only to 2027-01-14 21:56:55 UTC, 10.1 h ago",
        "raise thresholds.log_lines so that the lines read cover the window (or rotate the log more often)")


def test_an_error_is_shown_with_its_time_level_and_event_whole() -> None:
    tail = facts(at(7200, level="ERROR", event="boom"), at(60, exc_info="Traceback ..."), at(0, level="info"))
    assert whole(no_error_within, tail, 24.5) == (
        f"no error in the last 24.5 h of {LOG} on machine",
        "2 error line(s):\nline 1: 2027-01-15T06:00:00+00:00 ERROR 'boom'\n"
        "line 2: 2027-01-15T07:59:00+00:00 ''",
        "read the errors (their request ids lead to the requests that failed) and fix their cause; the check "
        "looks back 24.5 h")


def test_an_event_exactly_as_old_as_the_window_counts_and_one_a_second_older_does_not(
        clock_not_on_utc: None) -> None:
    tail = facts(at(3601, event=EVENT), at(3600, event=EVENT), at(30, event="other"))
    events_at_most(tail, EVENT, 1, 60)
    assert whole(events_at_most, tail, EVENT, 0, 60) == (
        f"at most 0 {EVENT} events in the last 60 min of {LOG} on machine",
        "1, the newest at 2027-01-15 07:00:00 UTC (line 2)",
        f"find who causes them (each {EVENT} line names its client): block an attacker, or correct the "
        "limit or the client that legitimate users run into")


@pytest.mark.parametrize(("count", "more"), [(5, []), (6, ["... and 1 more"])])
def test_five_problems_are_all_named_and_a_sixth_is_counted(count: int, more: list[str]) -> None:
    found = failure(structured, facts(*(f"plain {i}" for i in range(count)))).found
    assert found.splitlines() == [f"{count} of {count} not:",
                                  *(f"line {i + 1}: not JSON: 'plain {i}'" for i in range(5)), *more]


@pytest.mark.parametrize(("text", "shown"), [("x" * 60, "x" * 60), ("x" * 61, "x" * 60 + "...")])
def test_sixty_characters_of_a_line_are_shown_whole_and_a_longer_one_is_cut(text: str, shown: str) -> None:
    assert failure(structured, facts(text)).found == f"1 of 1 not:\nline 1: not JSON: '{shown}'"


@pytest.mark.parametrize(("value", "kind"), [(True, "boolean"), (None, "null"), (1.5, "number"),
                                             ({"at": 1}, "object"), ([], "list")])
def test_a_time_that_is_no_string_is_named_by_its_json_kind(value: object, kind: str) -> None:
    found = failure(structured, facts(json.dumps({"time": value, "level": "info"}))).found
    assert found == f"1 of 1 not:\nline 1: time is not an ISO 8601 string: a {kind}"
    assert timestamp(b"2026") == "is not an ISO 8601 string: a bytes"
