"""Secrets are masked wherever they appear, including the pieces of a malformed URL."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

import pytest

from runbook_checks.log_redaction import RedactedLogs
from runbook_checks.redaction import MASK, Redactor, UnsafeSecret, base64_forms, without_credentials
from tests.gate_run import run_gate

if TYPE_CHECKING:
    from runbook_harness.state import StackState


def test_named_secrets_are_masked_and_plain_urls_kept() -> None:
    redactor = Redactor()
    redactor.add_variable("JWT_SECRET", "s3cr3t-value-long")
    redactor.add_variable("NEXTAUTH_URL", "https://example.com")
    redactor.add_variable("LOG_LEVEL", "debug")
    redactor.add_variable("ACCESS_TOKEN_MINUTES", "1440")
    redactor.add_variable("QSTASH_TOKEN", "qstash-token-value")
    text = redactor("jwt=s3cr3t-value-long url=https://example.com level=debug minutes=1440 "
                    "q=qstash-token-value")
    assert text == f"jwt={MASK} url=https://example.com level=debug minutes=1440 q={MASK}"


def test_url_credentials_are_masked_raw_and_decoded() -> None:
    redactor = Redactor()
    redactor.add_variable("DATABASE_URL", "postgresql://app:p%40ss%2Fword@db:5432/x")
    assert redactor("password p@ss/word or p%40ss%2Fword") == f"password {MASK} or {MASK}"


def test_pieces_of_an_unencoded_password_are_masked() -> None:
    redactor = Redactor()
    redactor.add_variable("DATABASE_URL", "postgresql://app:first@secondpart/thirdpart#@db:5432/x")
    text = redactor("failed to resolve host 'secondpart'; first; thirdpart")
    assert "secondpart" not in text and "first" not in text and "thirdpart" not in text


def test_what_masking_could_change_is_told_apart_from_what_it_cannot() -> None:
    redactor = Redactor()
    assert not redactor.may_change("plain text") and redactor.may_change("see http://a:b@host/")
    redactor.add("Kq8-zV2m!x7Lp")
    assert redactor.may_change("x Kq8-zV2m!x7Lp y") and redactor.may_change("see https://host/")
    assert redactor.may_change(base64.b64encode(b"Kq8-zV2m!x7Lp").decode()[:8] + "\n"
                               + base64.b64encode(b"Kq8-zV2m!x7Lp").decode()[8:])
    assert not redactor.may_change("Kq8-zV2m x7Lp and http:/ only")


def test_a_secret_is_masked_only_where_it_stands_whole() -> None:
    redactor = Redactor()
    redactor.add_variable("APP_PASSWORD", "database")  # read from an app at run time: not strict
    assert redactor("test_database_status databases database") == f"test_database_status databases {MASK}"
    assert redactor.unmaskable == {"APP_PASSWORD"}


def test_a_safe_secret_is_masked_wherever_it_appears() -> None:
    redactor = Redactor()
    redactor.add("Kq8-zV2m!x7Lp")
    assert redactor("aKq8-zV2m!x7Lpb test_Kq8-zV2m!x7Lp_x") == f"a{MASK}b test_{MASK}_x"


def test_a_secret_after_an_escape_a_program_printed_is_masked() -> None:
    redactor = Redactor()
    redactor.add_variable("APP_PASSWORD", "database")  # weak: masked only where it stands whole
    escaped = ["\\ndatabase", "%0Adatabase", "\\x0adatabase", "\\u000adatabase", "&#10;database"]
    assert [redactor(text) for text in escaped] == [text.replace("database", MASK) for text in escaped]


@pytest.mark.parametrize(("value", "problem"), [
    ("Zq7", "3 characters, fewer than 8"),
    ("k9Lm2Xp", "7 characters, fewer than 8"),
    ("postgres", "letters and separators only, fewer than 32 characters"),
    ("test_required_variables_set", "letters and separators only, fewer than 32 characters"),
    ("passwordpasswordpassword1234", "a common password"),
    ("abcdefghijklmnopqrstuvwxyz0123", "a common password"),
    ("password1", "a common password"),
    ("admin123", "a common password"),
])
def test_a_declared_secret_too_weak_to_mask_is_refused_by_name(value: str, problem: str) -> None:
    with pytest.raises(UnsafeSecret) as caught:
        Redactor().add_variable("SHOP_DB_PASSWORD", value, strict=True)
    assert str(caught.value).startswith(f"SHOP_DB_PASSWORD: {problem}")
    assert value not in str(caught.value)


def test_safe_secrets_pass_the_strict_test() -> None:
    redactor = Redactor()
    redactor.add_variable("DATABASE_URL", "postgresql://app:demo-pass-4242@db:5432/x", strict=True)
    redactor.add_variable("WORDS_SECRET", "correct-horse-battery-staple-and-more", strict=True)  # 32+
    assert redactor("demo-pass-4242 correct-horse-battery-staple-and-more") == f"{MASK} {MASK}"
    assert not redactor.unmaskable


def test_every_printed_form_of_a_secret_is_masked() -> None:
    secret = 'p@ss/w"o<r&d\\9Qz'
    redactor = Redactor()
    redactor.add_variable("API_TOKEN", secret)
    forms = [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret), repr(secret),
             escape(secret, {'"': "&quot;"})]
    text = redactor(" | ".join(forms))
    assert "9Qz" not in text, text


@pytest.mark.parametrize("before", ["", "u", "u:", "adm:", "admin:"])  # each place in a 3-byte group, twice
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "url-safe"])
def test_a_secret_inside_base64_text_is_masked(before: str, encode: Callable[[bytes], bytes]) -> None:
    secret = "Ab~~~9xQ-Zr7?>w"  # 15 bytes: 20 characters of base64, with + and / (- and _) among them
    redactor = Redactor()
    redactor.add_variable("API_TOKEN", secret)
    text = encode(f"{before}{secret}~tail".encode()).decode()  # ~: bits that differ from padding
    assert any(c in text for c in "+/-_")
    masked = redactor(f"Authorization: Basic {text}").removeprefix("Authorization: Basic ")
    assert masked.count(MASK) == 1, masked
    # every character the secret's bits alone decide is gone: at least 19 of its 20
    assert len(text) - len(masked.replace(MASK, "")) >= 19


def test_a_secret_in_wrapped_or_url_quoted_base64_is_masked() -> None:
    secret = "Ab~~~9xQ-Zr7?>w"
    redactor = Redactor()
    redactor.add_variable("API_TOKEN", secret)
    for before in range(0, 80):  # MIME's 76 columns: the secret's encoding across each line break
        text = base64.encodebytes(("x" * before + secret + "~tail").encode()).decode()
        masked = redactor(text)
        assert masked.count(MASK) == 1, (before, masked)
        assert len(text) - len(masked.replace(MASK, "")) >= 19, (before, masked)
    quoted = quote(base64.b64encode(f"u:{secret}".encode()).decode(), safe="")  # + and / as %2B, %2F
    assert "%2B" in quoted and redactor(quoted).count(MASK) == 1


def test_base64_forms_only_of_a_secret_safe_to_mask_anywhere() -> None:
    assert base64_forms("short") == set()  # no form as long as a safe secret
    redactor = Redactor()
    redactor.add("hunter2hunter2", "A_PASSWORD")  # masked only where it stands whole: a guessable value
    encoded = base64.b64encode(b"u:hunter2hunter2").decode()
    assert redactor(encoded) == encoded and "A_PASSWORD" in redactor.unmaskable


def test_credentials_of_any_url_are_hidden_undeclared() -> None:
    text = "got 'https://admin:hunter-two@example.com/x' and redis://:s3@cache:6379/0"
    assert Redactor()(text) == (f"got 'https://admin:{MASK}@example.com/x' and redis://:{MASK}@cache:6379/0")
    assert without_credentials("https://host:443/path?e=a@b") == "https://host:443/path?e=a@b"


def test_log_records_are_masked_and_host_command_output_kept_out(caplog: pytest.LogCaptureFixture) -> None:
    redactor = Redactor()
    redactor.add_variable("JWT_SECRET", "Xv8-long-jwt-signing-value")
    logs = RedactedLogs(redactor)
    logs.install()
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("urllib3").debug("sent %s", "Bearer Xv8-long-jwt-signing-value")
            logging.getLogger("testinfra").debug("RUN cat /proc/1/environ: JWT_SECRET=other")
            try:
                raise ValueError("Xv8-long-jwt-signing-value")
            except ValueError:
                logging.getLogger("app").exception("failed")
    finally:
        logs.uninstall()
    assert [r.getMessage() for r in caplog.records] == [f"sent Bearer {MASK}", "failed"]
    assert "Xv8" not in caplog.text and MASK in caplog.text
    assert logging.getLogger("testinfra").level == logging.NOTSET  # restored


def printed_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
            repr(secret)[1:-1], escape(secret, {'"': "&quot;"})}


def test_no_secret_in_any_output_at_debug_level(stack: StackState, stack_env: dict[str, str],
                                                tmp_path: Path) -> None:
    # the redis URL's password wrong: a failure that prints its target, beside debug logs of every library
    redis_url = stack.stack_env()["RC_REDIS_URL"]
    wrong = redis_url.replace(quote(stack.secrets["redis"], safe=""), "Wr0ng-pass-4242")
    run = run_gate("local", tmp_path / "junit.xml", {**stack_env, "RC_REDIS_URL": wrong},
                   ("--log-cli-level=DEBUG", "-rA", "-l", "--log-level=DEBUG"))
    assert run.failed and "DEBUG" in run.output, run.output[-3000:]
    for secret in [*stack.secrets.values(), "Wr0ng-pass-4242"]:
        for form in printed_forms(secret):
            assert form not in run.output, "a secret reached the console"
            assert form not in run.junit, "a secret reached the JUnit report"


def test_a_weak_declared_secret_stops_the_run_naming_its_variable(tmp_path: Path) -> None:
    path = tmp_path / "weak.yaml"
    path.write_text('name: weak\nproduction: false\nsystems: [platform]\npostgres:\n'
                    '  platform: {dsn: "postgresql://runbook_checks:${WEAK_PW}@127.0.0.1:5432/platform"}\n')
    run = run_gate("weak", tmp_path / "junit.xml", {"WEAK_PW": "Zq7-x"}, (f"--env={path}",))
    assert run.returncode == 4, run.output
    assert "postgres.platform.dsn (from WEAK_PW): 5 characters, fewer than 8" in run.output
    assert "Zq7-x" not in run.output


def test_a_guessable_declared_secret_is_named_by_its_key_and_the_variable_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "common.yaml"
    path.write_text('name: common\nproduction: false\nsystems: [platform]\npostgres:\n'
                    '  platform: {dsn: "${SHOP_DSN}"}\n')
    run = run_gate("common", tmp_path / "junit.xml",
                   {"SHOP_DSN": "postgresql://runbook_checks:password123@127.0.0.1:5432/platform"},
                   (f"--env={path}",))
    assert run.returncode == 4, run.output
    assert "postgres.platform.dsn (from SHOP_DSN): " in run.output, run.output[-2000:]
    assert "password123" not in run.output
    assert "gate FAILED: stopped before any check ran" in run.output


LATE_SECRET = "Hq4-Zr8x!Lm2Wv9Tq"  # known to the gate only once a check reads the app's env file
LATE_CHECKS = f"""import pytest

pytestmark = [pytest.mark.runbook("shop#late"), pytest.mark.severity("low"),
              pytest.mark.symptom("shop.1", "a key printed before it was known")]


def test_prints_the_key_first():
    pytest.fail("the key is {LATE_SECRET}", pytrace=False)


def test_reads_the_config_after(targets):
    assert targets.app_config("shop")["SHOP_API_SECRET"]
"""


def test_a_secret_read_as_checks_run_is_masked_in_what_came_before(tmp_path: Path) -> None:
    """A report made before a secret was known (the app's env file is read by a later check) has
    it masked by the end of the run: on the console, in the JUnit file and in the result."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "suites" / "common").mkdir(parents=True)
    (tmp_path / "pytest.ini").write_text("[pytest]\nrunbooks =\n    shop=shop.md\n")
    (tmp_path / "shop.md").write_text("# Shop\n\n## Late\n\nA key.\n")
    (tmp_path / "shop.env").write_text(f"SHOP_API_SECRET={LATE_SECRET}\n")
    (tmp_path / "environments" / "late.yaml").write_text(
        f"name: late\nsystems: [shop]\napps:\n  shop: {{config: {{env_file: {tmp_path / 'shop.env'}}}}}\n")
    (tmp_path / "suites" / "common" / "shop.py").write_text(LATE_CHECKS)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/late", "-p", "no:cacheprovider", "-rA",
                          f"--junitxml={tmp_path / 'junit.xml'}"], cwd=tmp_path, env=environ,
                         capture_output=True, text=True, timeout=120)
    junit = (tmp_path / "junit.xml").read_text()
    result = (tmp_path / "result-late.json").read_text()
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert f"the key is {MASK}" in junit and f"the key is {MASK}" in result
    assert LATE_SECRET not in run.stdout + run.stderr + junit + result
