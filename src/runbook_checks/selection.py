"""What a check needs of an environment (`@pytest.mark.needs(...)`), and why a check is left out
of an environment that does not offer it. The environment file already says what it allows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook_checks.environment import Environment

# capability -> (does the environment offer it, why a check is left out when it does not)
FLAGS = {
    "state_changes": (lambda env: env.allow_state_changes,
                      "sends requests that change state; {env} sets allow_state_changes: false"),
    "production": (lambda env: env.production, "a production rule; {env} is not production"),
    "stack": (lambda env: env.stack is not None, "needs the reference stack; {env} declares none"),
    "compose": (lambda env: env.compose is not None and (env.stack is None or env.stack.kind == "compose"),
                "reads the containers of a compose project; {env} declares none, or runs its stack natively"),
    "mail_sink": (lambda env: env.mail_sink is not None,
                  "compares the apps' mail server with the sink; {env} declares none (mail_sink)"),
    "mail_inbox": (lambda env: env.mail_sink is not None and env.mail_sink.maildir is not None,
                   "reads the mail sink's inbox; {env} declares none (mail_sink.maildir)"),
}
# keyword -> (the environment's mapping that must hold the name, what the check does with it)
NAMED = {"test_account": ("test_accounts", "logs in as a test account of"),
         "host": ("hosts", "reads the host")}
MARKER = ("needs(*capabilities, test_account=APP, host=NAME): what a check needs of an environment: "
          f"{', '.join(FLAGS)}, a test account for APP, a host it may reach; left out, with the "
          "reason, where it is missing")


def unknown_capabilities(needs: Iterable[tuple[tuple[Any, ...], Mapping[str, Any]]]) -> list[str]:
    """Capabilities named in `needs` markers that do not exist (a typo would drop a check)."""
    unknown = []
    for args, kwargs in needs:
        unknown += [str(a) for a in args if a not in FLAGS]
        unknown += [f"{k}=" for k in kwargs if k not in NAMED]
    return unknown


def left_out(env: Environment, needs: Iterable[tuple[tuple[Any, ...], Mapping[str, Any]]]) -> list[str]:
    """Why a check with these `needs` markers cannot run in `env` (empty when it can)."""
    name = f"environment '{env.name}'"
    reasons = []
    for args, kwargs in needs:
        for flag in args:
            offered, why = FLAGS[flag]
            if not offered(env):
                reasons.append(why.format(env=name))
        for keyword, value in kwargs.items():
            key, does = NAMED[keyword]
            if value is not None and value not in getattr(env, key):
                reasons.append(f"{does} {value}; {name} declares none ({key}.{value})")
    return reasons
