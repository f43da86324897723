"""How an app is built, declared in its system's expected state instead of assumed: how it logs
in (JSON or a form, which fields, where the tokens are in the answer) and which variables make up
its database URL (one URL, or host, port, user, password and database apart)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from runbook_checks.targets.base import libpq_url


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginShape(_Shape):
    """A login: a bare path means a JSON body {email, password} answered by {access_token,
    refresh_token}; FastAPI's OAuth2 password flow is `encoding: form, user_field: username`."""

    path: str
    encoding: Literal["json", "form"] = "json"
    user_field: str = "email"
    password_field: str = "password"
    # where the answer holds each token: a dotted path into its JSON body
    tokens: dict[str, str] = {"access_token": "access_token", "refresh_token": "refresh_token"}

    @classmethod
    def of(cls, declared: str | dict[str, Any]) -> LoginShape:
        return cls(path=declared) if isinstance(declared, str) else cls.model_validate(declared)

    def body(self, user: str, password: str) -> dict[str, Any]:
        """The request's keyword arguments for `requests`: json= or data=."""
        fields = {self.user_field: user, self.password_field: password}
        return {"json": fields} if self.encoding == "json" else {"data": fields}


# libpq's keywords and the URL forms apps commonly use for them
_PARTS = ("host", "port", "user", "password", "dbname")


class DatabaseUrlShape(_Shape):
    """Where an app's database address is: one URL variable, or one variable per part."""

    variable: str | None = None
    parts: dict[Literal["host", "port", "user", "password", "dbname"], str] | None = None

    @classmethod
    def of(cls, declared: str | dict[str, Any]) -> DatabaseUrlShape:
        shape = cls(variable=declared) if isinstance(declared, str) else cls.model_validate(declared)
        if (shape.variable is None) == (shape.parts is None):
            raise ValueError("declare a database URL as variable: NAME or parts: {host: NAME, ...}")
        return shape

    @property
    def names(self) -> list[str]:
        """The variables it reads."""
        return [self.variable] if self.variable else list((self.parts or {}).values())

    def missing(self, config: dict[str, str]) -> list[str]:
        return [name for name in self.names if not config.get(name)]

    def conninfo(self, config: dict[str, str]) -> str:
        """The connection string libpq takes, built from the app's own variables."""
        if self.variable:
            return libpq_url(config.get(self.variable, ""))
        from psycopg.conninfo import make_conninfo  # the client library is imported where it is used

        values = {key: config.get(name, "") for key, name in (self.parts or {}).items()}
        return make_conninfo(**{k: v for k, v in values.items() if k in _PARTS and v})
