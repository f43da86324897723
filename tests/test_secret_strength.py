"""How guessable the environment's secrets are, judged in a child process while the run goes on:
the verdict read before the first check, a guessable secret (or no verdict) stopping the run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

STRONG = "Xv8-long-jwt-signing-value"


def in_a_fresh_process(code: str) -> subprocess.CompletedProcess[str]:
    """`code` run by a new interpreter: a process with no other thread, where the judgement forks."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120)


def test_the_child_names_the_guessable_secret_and_never_its_value() -> None:
    done = in_a_fresh_process(f"""
        import os
        from runbook_checks.redaction import UnsafeSecret
        from runbook_checks.secret_strength import Judgement
        judgement = Judgement([("JWT_SECRET", "{STRONG}"), ("SHOP_DB_PASSWORD", "password1")])
        assert judgement._child is not None, "judged at once, not in a child"
        try:
            judgement.raise_if_guessable()
        except UnsafeSecret as error:
            print("refused:", error)
        Judgement([("JWT_SECRET", "{STRONG}")]).raise_if_guessable()
        print("strong: accepted")
        """)
    assert done.returncode == 0, done.stderr
    assert "refused: SHOP_DB_PASSWORD: a common password: too weak to keep out of the output" in done.stdout
    assert "strong: accepted" in done.stdout and "password1" not in done.stdout


def test_a_child_that_gives_no_verdict_fails_the_run() -> None:
    done = in_a_fresh_process("""
        import os, signal
        from runbook_checks.errors import ConfigurationError
        from runbook_checks.secret_strength import Judgement
        judgement = Judgement([(f"SECRET_{i}", f"Qz7-{i:06d}-kLm2-xW9p-rT4v") for i in range(3000)])
        os.kill(judgement._child[0], signal.SIGKILL)
        try:
            judgement.raise_if_guessable()
        except ConfigurationError as error:
            print("failed:", error)
        """)
    assert done.returncode == 0, done.stderr
    assert "failed: the environment's secrets could not be judged: the process judging them" in done.stdout


def weak_project(root: Path) -> Path:
    """A project whose environment declares a test account's password, and one declared check."""
    (root / "environments").mkdir(parents=True)
    (root / "suites" / "common").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nrunbooks =\n    shop=not-a-file\n")
    (root / "environments" / "weak.yaml").write_text(
        "name: weak\npostgres:\n  shop: {dsn: 'postgresql://gate@127.0.0.1:9/shop'}\n"
        "test_accounts:\n  buyer: {email: buyer@shop.test, password: '${SHOP_BUYER_PASSWORD}'}\n")
    (root / "suites" / "common" / "shop.yaml").write_text(
        "checks:\n  orders_exist:\n    runbook: shop#slow\n    severity: low\n    symptom_id: shop.1\n"
        "    symptom: slow order listing\n    assert: postgres.tables_exist\n"
        "    with: {database: shop, tables: [orders]}\n")
    return root


def gate(root: Path, password: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "suites/weak", "-q", "-p", "no:cacheprovider",
                           f"--junitxml={root / 'junit.xml'}", *options], cwd=root, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "SHOP_BUYER_PASSWORD": password})


def test_a_guessable_secret_stops_the_run_before_its_first_check(tmp_path: Path) -> None:
    project = weak_project(tmp_path)
    for options in ((), ("--collect-only",)):
        run = gate(project, "password1", *options)
        assert run.returncode == 4, run.stdout + run.stderr
        assert ("weak.yaml: test_accounts.buyer.password (from SHOP_BUYER_PASSWORD): a common password: "
                "too weak to keep out of the output" in run.stderr), run.stderr
        assert "gate FAILED: stopped before any check ran; see the error above" in run.stdout, run.stdout
        assert "password1" not in run.stdout + run.stderr
        assert "<testcase" not in (tmp_path / "junit.xml").read_text()  # no check ran


def test_a_strong_secret_lets_the_run_go_on(tmp_path: Path) -> None:
    run = gate(weak_project(tmp_path), STRONG, "--collect-only")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 check(s), none run" in run.stdout
