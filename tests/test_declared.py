"""Checks declared in YAML: validated at collection (a mistake names the check and what is wrong),
and each registered assertion says what it asserts and which arguments it takes."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from runbook_checks.assertions import ASSERTIONS
from runbook_checks.declared import DeclarationError, declarations

GOOD = """
checks:
  orders_indexed:
    runbook: shop#slow-queries
    severity: high
    symptom_id: shop.2
    symptom: listing orders takes seconds
    assert: postgres.indexes_cover
    with: {database: shop, columns: {orders: [[customer_id]]}}
  login_works:
    runbook: shop#cant-log-in
    severity: critical
    symptom_id: shop.3
    symptom: users cannot log in
    assert: app.login
    with: {app: shop-api, login: {path: /token, encoding: form, user_field: username}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    return path


def test_declarations_are_read_with_their_markers(tmp_path: Path) -> None:
    found = declarations(write(tmp_path, GOOD))
    assert set(found) == {"orders_indexed", "login_works"}
    assert found["orders_indexed"].arguments == {"database": "shop", "columns": {"orders": [["customer_id"]]}}
    assert ASSERTIONS["app.login"].needs is not None
    assert ASSERTIONS["app.login"].needs(found["login_works"].arguments) == {"test_account": "shop-api"}


@pytest.mark.parametrize(("change", "message"), [
    (("postgres.indexes_cover", "postgres.no_such_thing"), "no assertion named 'postgres.no_such_thing'"),
    (("columns:", "colums:"), "unknown argument 'colums'; missing argument 'columns'"),
    (("symptom_id: shop.2", "symptom_id: shop"), "checks.orders_indexed: symptom_id"),
    (("severity: high", "severity: urgent"), "checks.orders_indexed: severity"),
    (("runbook: shop#slow-queries", "runbook: slow-queries"), "checks.orders_indexed: runbook"),
    (("    with: {database: shop,", "    extra: 1\n    with: {database: shop,"), "extra: Extra inputs"),
])
def test_a_wrong_declaration_names_the_check_and_the_problem(tmp_path: Path, change: tuple[str, str],
                                                            message: str) -> None:
    with pytest.raises(DeclarationError) as caught:
        declarations(write(tmp_path, GOOD.replace(*change, 1)))
    assert message in str(caught.value)
    assert str(tmp_path / "shop.yaml") in str(caught.value)


def test_every_assertion_documents_itself_and_takes_targets_first() -> None:
    assert len(ASSERTIONS) >= 20
    for name, item in ASSERTIONS.items():
        assert item.summary, f"{name}: no docstring"
        parameters = list(inspect.signature(item.run).parameters)
        assert parameters[:2] == ["targets", "environment"], name
        assert name.split(".")[0] in ("postgres", "app", "redis"), name


def test_the_readme_lists_every_assertion() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert [name for name in ASSERTIONS if f"| `{name}` |" not in readme] == []


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError) as caught:
        declarations(write(tmp_path, "checks:\n  broken: {runbook: [\n"))
    message = str(caught.value)
    assert f"{tmp_path / 'shop.yaml'}: not valid YAML" in message and "line 3" in message
    assert "<unicode string>" not in message


def test_what_an_environment_offers_decides_what_runs() -> None:
    from runbook_checks.environment import Environment
    from runbook_checks.selection import left_out, unknown_capabilities

    bare = Environment(name="qa")
    offers = Environment(name="dev", allow_state_changes=True, production=True, hosts={"api1": "local://"},
                         test_accounts={"api": {"username": "u", "password": "p"}})  # type: ignore[dict-item]
    needs = [(("state_changes", "production"), {"test_account": "api", "host": "api1"})]
    assert left_out(offers, needs) == []
    assert left_out(bare, needs) == [
        "sends requests that change state; environment 'qa' sets allow_state_changes: false",
        "a production rule; environment 'qa' is not production",
        "logs in as a test account of api; environment 'qa' declares none (test_accounts.api)",
        "reads the host api1; environment 'qa' declares none (hosts.api1)"]
    assert unknown_capabilities([(("state_change",), {"hosts": "x"})]) == ["state_change", "hosts="]


def test_the_mail_sink_checks_need_a_sink_and_its_inbox() -> None:
    from runbook_checks.environment import Environment, MailSink
    from runbook_checks.selection import left_out

    needs = [(("mail_sink", "mail_inbox"), {})]
    assert left_out(Environment(name="qa"), needs) == [
        "compares the apps' mail server with the sink; environment 'qa' declares none (mail_sink)",
        "reads the mail sink's inbox; environment 'qa' declares none (mail_sink.maildir)"]
    address_only = Environment(name="qa", mail_sink=MailSink(address="127.0.0.1:1025"))
    assert left_out(address_only, needs) == [
        "reads the mail sink's inbox; environment 'qa' declares none (mail_sink.maildir)"]
    full = Environment(name="qa", mail_sink=MailSink(address="127.0.0.1:1025", maildir=Path("mail")))
    assert left_out(full, needs) == []
