"""App shapes are declared, not assumed: a form login (FastAPI's OAuth2 password flow, under
uvicorn) and a database address split over POSTGRES_* variables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_checks.assertions import app_database_answers, login_tokens
from runbook_checks.environment import AppSpec, Environment
from runbook_checks.environment import TestAccount as Account
from runbook_checks.errors import CheckFailed
from runbook_checks.redaction import Redactor
from runbook_checks.shapes import DatabaseUrlShape, LoginShape
from runbook_checks.targets.registry import Targets
from runbook_harness.state import StackState
from tests.apps.form_login import PASSWORD
from tests.servers import uvicorn_app


@pytest.fixture(scope="module")
def form_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with uvicorn_app("tests.apps.form_login:app", tmp_path_factory.mktemp("uvicorn") / "log") as url:
        yield url


def environment(url: str, password: str = PASSWORD, tmp: Path = Path()) -> Environment:
    return Environment(name="test", apps={"api": AppSpec(url=url)}, root=tmp,
                       test_accounts={"api": Account(email="demo@example.test", password=password)})


def test_form_login_as_declared(form_app: str) -> None:
    env = environment(form_app)
    targets = Targets(env, Redactor())
    shape = {"path": "/token", "encoding": "form", "user_field": "username",
             "tokens": {"access_token": "access_token"}}
    assert login_tokens(targets, env, "api", shape) == {"access_token": "header.payload.signature"}
    # the assumed shape (JSON, email) is what FastAPI refuses: 422, not a pass
    with pytest.raises(CheckFailed, match="status 422"):
        login_tokens(targets, env, "api", "/token")
    # a shape that expects a refresh token the app does not issue fails, naming where it looked
    with pytest.raises(CheckFailed, match="without a token at 'refresh_token'"):
        login_tokens(targets, env, "api", {**shape, "tokens": {"access_token": "access_token",
                                                               "refresh_token": "refresh_token"}})
    wrong = environment(form_app, password="not-the-password")
    with pytest.raises(CheckFailed, match="status 401"):
        login_tokens(Targets(wrong, Redactor()), wrong, "api", shape)


def test_login_shape_defaults_and_body() -> None:
    assert LoginShape.of("/login").body("u", "p") == {"json": {"email": "u", "password": "p"}}
    form = LoginShape.of({"path": "/t", "encoding": "form", "user_field": "username"})
    assert form.body("u", "p") == {"data": {"username": "u", "password": "p"}}


def test_database_address_from_split_variables(stack: StackState, tmp_path: Path) -> None:
    parts = {"parts": {"host": "POSTGRES_HOST", "port": "POSTGRES_PORT", "user": "POSTGRES_USER",
                       "password": "POSTGRES_PASSWORD", "dbname": "POSTGRES_DB"}}
    shape = DatabaseUrlShape.of(parts)
    config = {"POSTGRES_HOST": stack.host, "POSTGRES_PORT": str(stack.ports["postgres"]),
              "POSTGRES_USER": "ghostworks_app", "POSTGRES_PASSWORD": stack.secrets["ghostworks_app"],
              "POSTGRES_DB": "ghostworks"}
    env_file = tmp_path / "api.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in config.items()))
    env = Environment.model_validate({"name": "test", "root": tmp_path, "apps": {
        "api": {"url": "http://127.0.0.1:9", "config": {"env_file": str(env_file)}}}})
    app_database_answers(Targets(env, Redactor()), env, "api", parts)  # answers: no exception
    assert shape.missing({**config, "POSTGRES_PASSWORD": ""}) == ["POSTGRES_PASSWORD"]
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in config.items() if k != "POSTGRES_DB"))
    with pytest.raises(CheckFailed, match="not set: POSTGRES_DB"):
        app_database_answers(Targets(env, Redactor()), env, "api", parts)
    env_file.write_text("".join(f"{k}='{v}x'\n" if k == "POSTGRES_PASSWORD" else f"{k}='{v}'\n"
                                for k, v in config.items()))
    with pytest.raises(CheckFailed, match="password authentication failed"):
        app_database_answers(Targets(env, Redactor()), env, "api", parts)
    with pytest.raises(ValueError, match="declare a database URL"):
        DatabaseUrlShape.of({})
