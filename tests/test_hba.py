"""pg_hba verdicts: the evaluator's first-match rule over hand-made lines, and the same verdict as
a real login on the stack's own server for each kind of line that once fooled it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from runbook_checks.checks import hba
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import HbaRule
from runbook_checks.targets.postgres import PostgresTarget
from runbook_harness import native
from runbook_harness.faults import sql
from runbook_harness.state import StackState
from tests.failures import failure

V4, V6 = "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
APP, GROUPS = "platform_app", frozenset({"platform_app", "tenants"})


def line(number: int, kind: str, users: str, address: str | None, method: str,
         databases: str = "all", netmask: str | None = V4, error: str | None = None) -> HbaRule:
    return HbaRule(number, kind, (databases,), (users,), address, netmask if address else None, method, error)


def accepts(rules: list[HbaRule], address: str = "127.0.0.1", sslmode: str = "prefer",
            server_ssl: bool = False) -> None:
    hba.hba_accepts(rules, "platform", APP, address, GROUPS, sslmode, server_ssl)


ALLOW = line(9, "host", "all", "127.0.0.1", "scram-sha-256")


def test_first_matching_line_decides() -> None:
    accepts([line(1, "host", "other", "127.0.0.1", "reject"), ALLOW])
    accepts([line(1, "host", "all", "::1", "reject", netmask=V6), ALLOW])
    with pytest.raises(CheckFailed, match="without SSL: line 1 rejects it"):
        accepts([line(1, "host", APP, "127.0.0.1", "reject"), ALLOW])
    with pytest.raises(CheckFailed, match="no line matches"):
        accepts([line(1, "host", "all", "::1", "md5", netmask=V6)])
    with pytest.raises(CheckFailed, match="no line matches"):
        accepts([line(1, "local", "all", None, "trust")])  # a socket line is no TCP line


def test_group_lines_count_every_membership() -> None:
    with pytest.raises(CheckFailed, match="line 1 rejects it"):
        accepts([line(1, "host", "+tenants", "127.0.0.1", "reject"), ALLOW])
    accepts([line(1, "host", "+tenants", "127.0.0.1", "md5"), line(2, "host", "all", "0.0.0.0", "reject",
                                                                      netmask="0.0.0.0")])
    accepts([line(1, "host", "+strangers", "127.0.0.1", "reject"), ALLOW])


def test_regular_expressions_decide_where_the_server_reads_them() -> None:
    """From PostgreSQL 16 a database or user name starting with / is a regular expression: the
    server's engine decides it (here a stand-in that records what it was asked); before, it is a
    plain name, and the line matches nothing here."""
    asked: list[tuple[str, str]] = []

    def engine(value: str, pattern: str) -> bool:
        asked.append((value, pattern))
        return value.startswith(pattern.removeprefix("^"))

    for rule in (line(1, "host", "all", "127.0.0.1", "reject", databases="/^plat"),
                 line(1, "host", "/^platform_", "127.0.0.1", "reject")):
        accepts([rule, ALLOW])  # no regex engine: the names are names
        with pytest.raises(CheckFailed, match="without SSL: line 1 rejects it"):
            hba.hba_accepts([rule, ALLOW], "platform", APP, "127.0.0.1", GROUPS, regex=engine)
        hba.hba_accepts([line(1, "host", "all", "127.0.0.1", "reject", databases="/^tenants"), ALLOW],
                        "platform", APP, "127.0.0.1", GROUPS, regex=engine)
    assert asked == [("platform", "^plat"), ("platform", "^tenants"),
                     (APP, "^platform_"), ("platform", "^tenants")]


def test_the_servers_own_regex_engine_answers(stack: StackState) -> None:
    """PostgreSQL's regular expressions, not Python's: a POSIX class and a word start (\\m, which
    Python's re refuses; `_` is a word character, so no word of platform_app starts with app)."""
    target = PostgresTarget("platform", stack.role_dsn("runbook_checks", "platform"), Timeouts())
    try:
        assert target.regex_matches(APP, "^[[:alpha:]]+_app$")
        assert not target.regex_matches(APP, "\\mapp") and target.regex_matches(APP, "\\mplatform")
        assert not target.regex_matches(APP, "^app")
        with pytest.raises(CheckFailed, match="line 1 rejects it"):
            hba.hba_accepts([line(1, "host", "/^[[:alpha:]]+_app$", "127.0.0.1", "reject"), ALLOW],
                            "platform", APP, "127.0.0.1", GROUPS, regex=target.regex_matches)
    finally:
        target.close()


def test_database_keywords() -> None:
    for keyword in ("sameuser", "replication", "samerole"):  # platform is no user nor group of the app
        accepts([line(1, "host", "all", "127.0.0.1", "reject", databases=keyword), ALLOW])
    rules = [HbaRule(1, "host", ("samerole",), ("all",), "127.0.0.1", V4, "reject", None), ALLOW]
    with pytest.raises(CheckFailed, match="line 1 rejects it"):
        hba.hba_accepts(rules, "tenants", APP, "127.0.0.1", GROUPS)


def test_server_side_names_fail_closed() -> None:
    with pytest.raises(CheckFailed, match="cannot tell: line 1 matches samehost"):
        accepts([line(1, "host", "all", "samehost", "reject", netmask=None), ALLOW], address="10.0.0.7")
    with pytest.raises(CheckFailed, match="cannot tell: line 1 matches the host name app.internal"):
        accepts([line(1, "host", "all", "app.internal", "reject", netmask=None), ALLOW])
    with pytest.raises(CheckFailed, match="line 1 rejects it"):  # loopback is the server's own host and net
        accepts([line(1, "host", "all", "samenet", "reject", netmask=None), ALLOW])


def test_ssl_types_follow_the_client_sslmode() -> None:
    require_tls = [line(1, "hostnossl", "all", "127.0.0.1", "reject"), ALLOW]
    accepts(require_tls, sslmode="require", server_ssl=True)
    accepts(require_tls, sslmode="prefer", server_ssl=True)  # the SSL attempt comes first
    with pytest.raises(CheckFailed, match="without SSL: line 1 rejects it"):
        accepts(require_tls, sslmode="disable", server_ssl=True)
    ssl_only = [line(1, "hostssl", "all", "127.0.0.1", "md5")]
    with pytest.raises(CheckFailed, match="no line matches"):
        accepts(ssl_only, sslmode="prefer", server_ssl=False)
    accepts(ssl_only, sslmode="allow", server_ssl=True)  # allow retries with SSL
    with pytest.raises(CheckFailed, match="ssl off: no attempt is made"):
        accepts([ALLOW], sslmode="verify-full", server_ssl=False)


def test_a_file_with_an_error_line_fails_closed() -> None:
    broken = HbaRule(2, "host", (), (), None, None, None, 'invalid authentication method "scrm"')
    with pytest.raises(CheckFailed, match='line 2: invalid authentication method "scrm": a reload keeps'):
        accepts([ALLOW, broken])
    warned = line(1, "hostssl", "all", "127.0.0.1", "reject", error="hostssl record cannot match because SSL "
                                                                      "is disabled")
    accepts([warned, ALLOW])  # parsed, in force, and unable to match without SSL


# The same verdict as the server: each variant goes first in the stack's pg_hba.conf, the server
# reloads, and the gate's verdict is held against a real login as the app role from 127.0.0.1.
VARIANTS = {
    "group reject": ["host all +hba_group 127.0.0.1/32 reject"],
    "group allow, then reject all": ["host all +hba_group 127.0.0.1/32 scram-sha-256",
                                     "host all all 0.0.0.0/0 reject"],
    "samenet reject": ["host all all samenet reject"],
    "samehost reject": ["host all all samehost reject"],
    "other group reject": ["host all +pg_monitor 127.0.0.1/32 reject"],
    "ssl-only reject (no SSL here)": ["hostssl all all 127.0.0.1/32 reject"],
    "non-ssl reject": ["hostnossl all all 127.0.0.1/32 reject"],
    "sameuser reject": ["host sameuser all 127.0.0.1/32 reject"],
    # before PostgreSQL 16 a name starting with / is a plain name, matching no such database or role
    "regex-like names (16 and later only)": ["host /^plat all 127.0.0.1/32 reject",
                                             "host all /^platform_ 127.0.0.1/32 reject"],
}


reload = sql("postgres", "SELECT pg_reload_conf()")


@pytest.fixture()
def hba_group(stack: StackState) -> Iterator[None]:
    sql("platform", "CREATE ROLE hba_group NOLOGIN", "GRANT hba_group TO platform_app")(stack)
    yield
    sql("platform", "DROP ROLE hba_group")(stack)


def gate_verdict(stack: StackState) -> bool:
    target = PostgresTarget("platform", stack.role_dsn("runbook_checks", "platform"), Timeouts())
    try:
        catalog = target.catalog()
        hba.hba_accepts(target.hba_rules(), "platform", APP, "127.0.0.1", catalog.groups_of(APP), "prefer",
                        catalog.settings.get("ssl") == "on")
        return True
    except CheckFailed:
        return False
    finally:
        target.close()


def server_verdict(stack: StackState) -> bool:
    try:
        psycopg.connect(stack.role_dsn(APP, "platform"), connect_timeout=5).close()
        return True
    except psycopg.OperationalError as refused:
        assert "pg_hba.conf rejects" in str(refused) or "no pg_hba.conf entry" in str(refused), refused
        return False


@pytest.mark.parametrize("variant", VARIANTS)
def test_verdict_matches_a_real_login(variant: str, stack: StackState, hba_group: None) -> None:
    conf = native.postgres(stack).data / "pg_hba.conf"
    healthy = conf.read_text()
    gate_first = "host all runbook_checks 127.0.0.1/32 scram-sha-256"  # the gate reads the rules
    conf.write_text("\n".join([gate_first, *VARIANTS[variant]]) + "\n" + healthy)
    try:
        reload(stack)
        assert gate_verdict(stack) == server_verdict(stack), variant
    finally:
        conf.write_text(healthy)
        reload(stack)


def test_a_file_the_server_refused_fails_closed(stack: StackState) -> None:
    """A reload with a bad line keeps the old rules in force, and the view shows only the new file:
    the gate cannot know the rules that decide, so it fails and says why."""
    conf = native.postgres(stack).data / "pg_hba.conf"
    healthy = conf.read_text()
    conf.write_text("host all platform_app 127.0.0.1/32 scrm-sha-256\n" + healthy)
    try:
        reload(stack)
        assert server_verdict(stack)  # the previous rules still admit the app
        target = PostgresTarget("platform", stack.role_dsn("runbook_checks", "platform"), Timeouts())
        try:
            with pytest.raises(CheckFailed, match='line 1: invalid authentication method "scrm-sha-256"'):
                hba.hba_accepts(target.hba_rules(), "platform", APP, "127.0.0.1", GROUPS)
        finally:
            target.close()
    finally:
        conf.write_text(healthy)
        reload(stack)


def test_the_sslmode_is_the_clients() -> None:
    assert hba.client_sslmode("postgresql://app@db/platform", {}) == "prefer"  # libpq's default
    assert hba.client_sslmode("postgresql://app@db/platform", {"PGSSLMODE": "require"}) == "require"
    assert hba.client_sslmode("postgresql://app@db/platform?sslmode=disable", {"PGSSLMODE": "require"}) \
        == "disable"
    assert hba.client_sslmode("host=db dbname=platform sslmode=verify-full", {}) == "verify-full"
    assert failure(hba.client_sslmode, "postgresql://app@db/platform?sslmode=required", {}) == (
        "an sslmode libpq knows (disable, allow, prefer, require, verify-ca, verify-full)",
        "sslmode=required", "set sslmode to one of them: libpq refuses the connection")
    assert failure(hba.client_sslmode, "postgresql://app@db/platform?sslmod=require", {})[1] == (
        "it does not parse, so its sslmode is unknown")


def test_libpq_attempts_per_sslmode() -> None:
    assert [hba.ssl_attempts(mode, True) for mode in hba.SSLMODES] == [
        (False,), (False, True), (True, False), (True,), (True,), (True,)]
    assert [hba.ssl_attempts(mode, False) for mode in hba.SSLMODES] == [
        (False,), (False,), (False,), (), (), ()]


def test_connection_types_gss_and_netmasks() -> None:
    accepts([line(1, "hostgssenc", "all", "127.0.0.1", "reject"), ALLOW])  # no GSS encryption is tried
    with pytest.raises(CheckFailed, match="line 1 rejects it"):
        accepts([line(1, "hostnogssenc", "all", "127.0.0.1", "reject"), ALLOW])
    with pytest.raises(CheckFailed, match="line 1 rejects it"):
        accepts([line(1, "host", "all", "all", "reject", netmask=None), ALLOW])
    wide = line(1, "host", "all", "10.1.2.3", "reject", netmask="255.0.0.0")  # host bits set, as people write
    with pytest.raises(CheckFailed, match="line 1 rejects it"):
        accepts([wide, line(2, "host", "all", "0.0.0.0", "md5", netmask="0.0.0.0")], address="10.9.9.9")
    accepts([wide, line(2, "host", "all", "0.0.0.0", "md5", netmask="0.0.0.0")], address="11.0.0.1")
    with pytest.raises(CheckFailed, match="no line matches"):  # an IPv4 client never matches an IPv6 line
        accepts([line(1, "host", "all", "::", "md5", netmask="::")], address="127.0.0.1")


def test_same_user_and_group_databases() -> None:
    for keyword in ("sameuser", "samerole", "samegroup"):
        database = APP if keyword == "sameuser" else "tenants"
        with pytest.raises(CheckFailed, match="line 1 rejects it"):
            hba.hba_accepts([line(1, "host", "all", "127.0.0.1", "reject", databases=keyword), ALLOW],
                            database, APP, "127.0.0.1", GROUPS)
        hba.hba_accepts([line(1, "host", "all", "127.0.0.1", "reject", databases=keyword), ALLOW],
                        "elsewhere", APP, "127.0.0.1", GROUPS)


def test_hba_whole_failures() -> None:
    expected = "a pg_hba line accepts platform_app to platform from 127.0.0.1"
    add = ("add `host platform platform_app {}/{} scram-sha-256` above any reject line in pg_hba.conf, then "
           "SELECT pg_reload_conf()")
    assert failure(accepts, [line(3, "host", "all", "127.0.0.1", "reject")], sslmode="prefer",
                   server_ssl=True) == (
        expected, "with SSL: line 3 rejects it; without SSL: line 3 rejects it", add.format("127.0.0.1", 32))
    assert failure(accepts, [], address="::1") == (
        "a pg_hba line accepts platform_app to platform from ::1",
        "without SSL: no line matches, so the connection is refused", add.format("::1", 128))
    assert failure(accepts, [ALLOW], sslmode="require") == (
        expected, "sslmode=require, and the server has ssl off: no attempt is made",
        "turn ssl on in the server, or lower the client's sslmode")
    assert failure(accepts, [line(1, "host", "all", "samehost", "reject", netmask=None)],
                   address="10.0.0.7") == (
        "a pg_hba line accepts platform_app to platform from 10.0.0.7",
        "cannot tell: line 1 matches samehost, and whether 10.0.0.7 is on the server's host or network only "
        "the server knows", "match this client by address in pg_hba.conf, above that line")
    broken = [line(4, "host", "all", None, None, error="invalid IP mask"),
              line(5, "hostssl", "all", "127.0.0.1", "md5", error="hostssl record cannot match"),
              line(6, "host", "all", None, None, error="unknown method")]
    assert failure(accepts, broken) == (
        expected, "line 4: invalid IP mask; line 6: unknown method: a reload keeps the previous rules, which "
        "the server does not show",
        "fix those lines, then SELECT pg_reload_conf() and read pg_hba_file_rules again")
    accepts([line(5, "hostssl", "all", "127.0.0.1", "reject", error="hostssl record cannot match"), ALLOW])
    edited = failure(hba.hba_accepts, [ALLOW], "platform", APP, "127.0.0.1", GROUPS, changed_since_load=True)
    assert edited == (
        expected, "pg_hba.conf was written after the server last loaded it: the rules in force are the "
        "previous ones, which the server does not show",
        "check the file, then SELECT pg_reload_conf() (or revert the edit)")
    assert failure(hba.client_sslmode, "postgresql://app@db/platform?sslmod=require", {}) == (
        "a database URL libpq parses", "it does not parse, so its sslmode is unknown",
        "fix the URL (see the URL checks)")
    with pytest.raises(CheckFailed, match="sslmode=require, and the server has ssl off"):
        hba.hba_accepts([ALLOW], "platform", APP, "127.0.0.1", GROUPS, "require")  # ssl is off unless said
    with pytest.raises(CheckFailed, match="; found without SSL: line 1 rejects it$"):
        hba.hba_accepts([line(1, "hostnossl", "all", "127.0.0.1", "reject")], "platform", APP, "127.0.0.1",
                        GROUPS)  # prefer, the default, tries no SSL on a server without it


def test_an_unloaded_edit_is_seen_on_a_real_server(stack: StackState) -> None:
    """An edit the server has not loaded shows in pg_hba_file_rules while the old rules decide: the
    gate sees that the file changed after the load, and fails instead of judging the file."""
    conf = native.postgres(stack).data / "pg_hba.conf"
    healthy = conf.read_text()
    time.sleep(1.1)  # a second after the last load: the file's time has whole seconds
    conf.write_text(f"host all {APP} 127.0.0.1/32 reject\n" + healthy)
    target = PostgresTarget("platform", stack.role_dsn("runbook_checks", "platform"), Timeouts())
    try:
        assert server_verdict(stack)  # the rules in force still admit the app
        assert target.hba_changed_since_load()
        with pytest.raises(CheckFailed, match="pg_hba.conf was written after the server last loaded it"):
            hba.hba_accepts(target.hba_rules(), "platform", APP, "127.0.0.1", GROUPS,
                            changed_since_load=target.hba_changed_since_load())
    finally:
        target.close()
        conf.write_text(healthy)
        reload(stack)
    time.sleep(0.2)  # the postmaster takes the reload signal
    loaded = PostgresTarget("platform", stack.role_dsn("runbook_checks", "platform"), Timeouts())
    try:
        assert not loaded.hba_changed_since_load()
    finally:
        loaded.close()
