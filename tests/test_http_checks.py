"""HTTP checks over hand-made answers: each passes on a healthy answer and fails, with its message,
on the breakage it is for, at its boundaries."""

from __future__ import annotations

import json

import pytest

from runbook_checks.checks import http
from runbook_checks.errors import CheckFailed
from runbook_checks.targets.http import Response


def reply(status: int = 200, body: object = None, seconds: float = 0.01) -> Response:
    text = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return Response(status, {"Content-Type": "application/json"}, text, seconds)


def test_latency_is_the_median_and_the_limit_is_allowed() -> None:
    http.latency_under([reply(seconds=s) for s in (0.1, 0.5, 9.0)], "GET /", 500)  # one outlier
    with pytest.raises(CheckFailed, match="median 501 ms over 3 call"):
        http.latency_under([reply(seconds=s) for s in (0.1, 0.501, 9.0)], "GET /", 500)


def test_status_and_json_answers() -> None:
    http.answers_status(reply(204, ""), "GET /", 204)
    with pytest.raises(CheckFailed, match="status 200: "):
        http.answers_status(reply(200), "GET /", 204)
    http.answers_json(reply(200, {"ok": True}), "GET /")
    with pytest.raises(CheckFailed, match="status 200: \\[1\\]"):
        http.answers_json(reply(200, [1]), "GET /")  # JSON, but not an object
    with pytest.raises(CheckFailed, match="status 201"):
        http.answers_json(reply(201, {"ok": True}), "GET /")


def test_scheduled_jobs() -> None:
    healthy = {"jobs": [{"id": "a", "last_run_status": "success", "next_run_time": "soon"}]}
    http.jobs_healthy(reply(200, healthy), "GET /jobs")
    broken = {"jobs": [{"id": "a", "last_run_status": "failed", "next_run_time": "soon"},
                       {"id": "b", "last_run_status": "success", "next_run_time": None}]}
    with pytest.raises(CheckFailed, match="a: last run failed; b: no next run"):
        http.jobs_healthy(reply(200, broken), "GET /jobs")
    for answer in (reply(200, {"jobs": []}), reply(403, healthy), reply(200, {"jobs": "x"})):
        with pytest.raises(CheckFailed, match="listing the scheduled jobs"):
            http.jobs_healthy(answer, "GET /jobs")


def test_bad_input_is_refused_with_a_validation_error() -> None:
    http.validation_refused(reply(400, {"error": "Validation error"}), "GET /stats")
    with pytest.raises(CheckFailed, match="status 500: boom") as crashed:
        http.validation_refused(reply(500, "boom"), "GET /stats")
    assert "a crash is a 500" in crashed.value.fix
    for answer in (reply(200, {"range": "week"}), reply(400, {"detail": "x"}), reply(422, {"error": "x"}),
                   reply(400, "not json")):
        with pytest.raises(CheckFailed, match="-> 400 with a validation error"):
            http.validation_refused(answer, "GET /stats")


def test_unsigned_calls_are_refused_with_401_only() -> None:
    http.refused_unsigned(reply(401, {"error": "Invalid signature"}), "POST /cron")
    for status in (200, 403, 405, 500):
        with pytest.raises(CheckFailed, match=f"status {status}"):
            http.refused_unsigned(reply(status), "POST /cron")


def test_failed_logins_end_in_429() -> None:
    http.rate_limited([reply(401), reply(401), reply(429)], "POST /login")
    with pytest.raises(CheckFailed, match="statuses: 401, 401, 401") as caught:
        http.rate_limited([reply(401)] * 3, "POST /login")
    assert "within 3 attempts" in caught.value.expected
