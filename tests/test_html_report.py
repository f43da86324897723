"""The HTML report of a run, as headless Chromium renders it: failures first with their blocks,
checks under their systems and sections, every value escaped, and a screenshot that is a real page."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from runbook_checks import cli, html_report

HOSTILE = "found     <script>window.injected = 1</script> & <b>bold</b> AT&amp;T"
MIGRATION = "suites/common/author.py::TestDatabaseMigrations::test_migration_role_privileges"
RLS = "suites/common/platform.py::TestRlsPolicyViolations::test_rls_enabled"
GRANTS = "suites/common/author.py::TestDatabaseMigrations::test_grants_match"
WAIVED = "suites/common/platform.py::TestConnectionLimits::test_pool_headroom"
SKIPPED = "suites/common/platform.py::TestRlsPolicyViolations::test_insert_as_tenant"
PASSED = "suites/common/author.py::TestTokenLifetime::test_access_token_lifetime"
EXPIRED = "suites/common/platform.py::TestConnectionLimits::test_idle_sessions"
BLOCK = ("symptom   permission denied for table migrations\n"
         "expected  the migration role owns public.migrations\n" + HOSTILE + "\n"
         "fix       ALTER TABLE public.migrations OWNER TO migrator")
LAPSED = {"check": EXPIRED, "justification": "until the pool moves", "owner": "db@example.com",
          "expires": "2026-11-01"}
WAIVER = {"check": WAIVED, "justification": "pool resized on <Friday> & not before",
          "owner": "ops@example.com", "expires": "2027-01-15"}
# The verdict banner's colour in the stylesheet: seen in the screenshot only if the CSS was applied.
FAILED_RED = (0xB4, 0x23, 0x18)


def _check(check_id: str, system: str, section: str, status: str, severity: str, message: str = "",
           **extra: object) -> dict[str, object]:
    number = {"author": 1, "platform": 4}[system]
    return {"id": check_id, "system": system, "runbook": f"{system}#{section.lower().replace(' ', '-')}",
            "section": section, "symptom_id": f"{system}.{number}", "symptom": f"{section} symptom",
            "severity": severity, "status": status, "duration_seconds": 0.012, "message": message,
            "digest": "3f2a9c01be77" if status == "failed" else "", "waiver": None,
            "history": ["passed", status], **extra}


def _result() -> dict[str, object]:
    """Two systems; the high error runs before the critical failure, which the page shows first."""
    checks = [
        _check(PASSED, "author", "Token Lifetime", "passed", "medium"),
        _check(RLS, "platform", "RLS Policy Violations", "error", "high",
               "symptom   new row violates row-level security policy\nfound     KeyError: 'relrowsecurity'"),
        _check(MIGRATION, "author", "Database Migrations", "failed", "critical", BLOCK),
        _check(GRANTS, "author", "Database Migrations", "passed", "high"),
        _check(SKIPPED, "platform", "RLS Policy Violations", "skipped", "low",
               "sends requests that change state; environment 'prod' sets allow_state_changes: false"),
        _check(WAIVED, "platform", "Connection Limits", "waived", "medium", WAIVER["justification"],
               waiver=WAIVER),
        _check(EXPIRED, "platform", "Connection Limits", "failed", "low", "symptom   too many idle sessions",
               waiver=LAPSED),
    ]
    return {"format": "runbook-checks-result/1", "environment": "prod",
            "started_at": "2026-11-30T19:50:00+00:00", "duration_seconds": 12.34, "fail_on": "high",
            "exit_status": 1, "checks": checks,
            "waivers": {"unmatched": [{"check": "test_gone", "owner": "a@b.example", "expires": "2027-01-01",
                                       "justification": "renamed check"}],
                        "passing": [GRANTS], "expired": [EXPIRED]},
            "counts": {"passed": 2, "failed": 2, "error": 1, "skipped": 1, "waived": 1}}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Every element below this one with that tag and those attribute values (class_ for class)."""
        found = []
        for child in self.children:
            if isinstance(child, Node):
                wanted = {k.rstrip("_"): v for k, v in attrs.items()}
                if (tag is None or child.tag == tag) and all(
                        v in child.attrs.get(k, "").split() if k == "class" else child.attrs.get(k) == v
                        for k, v in wanted.items()):
                    found.append(child)
                found += child.all(tag, **attrs)
        return found

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag}> {attrs}"
        return found[0]


class _Tree(HTMLParser):
    """The DOM Chromium serialised, as a tree of Nodes."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(node)
        if tag not in self.VOID:
            self.open.append(node)

    def handle_endtag(self, tag: str) -> None:
        while len(self.open) > 1 and self.open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is not installed: apt-get install chromium (or run scripts/install.sh)"
    return found


def _browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={profile}", *args, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _dom(page: Path, profile: Path) -> Node:
    tree = _Tree()
    tree.feed(_browse(page, profile, "--dump-dom").stdout)
    return tree.root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Node]:
    work = tmp_path_factory.mktemp("html")
    page = work / "result-prod.html"
    html_report.write(_result(), page)
    return page, _dom(page, work / "profile")


def test_header_gives_verdict_counts_by_severity_and_threshold(rendered: tuple[Path, Node]) -> None:
    _, dom = rendered
    assert dom.one(id="verdict").text() == "FAILED"
    assert dom.one(id="failing-by-severity").text() == "1 critical, 1 high, 1 low"
    assert dom.one(id="fail-on").text() == "high"
    header = dom.one("header").text()
    assert "runbook-checks: prod" in header and "2026-11-30 19:50:00 UTC" in header and "12.3 s" in header
    assert [b.text() for b in dom.one(id="counts").all("span")] == [
        "2 failed", "1 error", "1 waived", "1 skipped", "2 passed"]


def test_failures_come_first_worst_first_with_their_whole_block(rendered: tuple[Path, Node]) -> None:
    _, dom = rendered
    main = dom.one("main")
    headings = [h.text() for h in main.all("h2")]
    assert headings[0] == "Failures (3)" and headings[1] == "Checks by system and runbook section"
    cards = dom.one(id="failures").all("article")
    assert [c.attrs["data-check"] for c in cards] == [MIGRATION, RLS, EXPIRED]
    assert ["below" in c.attrs["class"].split() for c in cards] == [False, False, True]
    first = cards[0]
    assert first.one("code", class_="check").text() == MIGRATION
    assert first.one(class_="section").text() == "Database Migrations"
    assert first.one(class_="symptom-id").text() == "author.1"
    assert [b.text() for b in first.all(class_="badge")] == ["critical", "failed"]
    assert first.one("pre").text() == BLOCK
    assert [b.text() for b in cards[1].all(class_="badge")] == ["high", "error"]
    assert [n.text() for n in cards[2].all(class_="note")][:2] == [
        "below the fail-on threshold (high): reported, does not fail the gate",
        "waiver expired on 2026-11-01 (owner db@example.com): until the pool moves"]


def test_checks_sit_under_their_system_and_section(rendered: tuple[Path, Node]) -> None:
    _, dom = rendered
    systems = dom.one(id="systems").all("details", class_="system")
    assert [s.attrs["data-system"] for s in systems] == ["author", "platform"]
    placed = {(s.attrs["data-system"], sec.attrs["data-section"], row.attrs["data-check"],
               row.attrs["data-status"])
              for s in systems for sec in s.all("details", class_="section") for row in sec.all("tr")
              if "data-check" in row.attrs}
    assert placed == {
        ("author", "Token Lifetime", PASSED, "passed"),
        ("author", "Database Migrations", MIGRATION, "failed"),
        ("author", "Database Migrations", GRANTS, "passed"),
        ("platform", "RLS Policy Violations", RLS, "error"),
        ("platform", "RLS Policy Violations", SKIPPED, "skipped"),
        ("platform", "Connection Limits", WAIVED, "waived"),
        ("platform", "Connection Limits", EXPIRED, "failed"),
    }
    opened = {s.attrs["data-section"] for s in dom.all("details", class_="section") if "open" in s.attrs}
    assert opened == {"Database Migrations", "RLS Policy Violations", "Connection Limits"}
    assert all("open" in s.attrs for s in systems)


def test_severity_breakdown_and_waivers(rendered: tuple[Path, Node]) -> None:
    _, dom = rendered
    rows = {r.attrs["data-severity"]: [td.text() for td in r.all("td")[1:]]
            for r in dom.one(id="severities").all("tr") if "data-severity" in r.attrs}
    # columns: failed, error, waived, skipped, passed, total
    assert rows == {"critical": ["1", "", "", "", "", "1"], "high": ["", "1", "", "", "1", "2"],
                    "medium": ["", "", "1", "", "1", "2"], "low": ["1", "", "", "1", "", "2"]}
    waived = dom.one(id="waived").one("tr", **{"data-check": WAIVED})
    assert [td.text() for td in waived.all("td")] == [
        WAIVED, "medium", "pool resized on <Friday> & not before", "ops@example.com", "2027-01-15"]
    unmatched = dom.one(id="waivers-unmatched").one("tr", **{"data-check": "test_gone"})
    assert [td.text() for td in unmatched.all("td")] == [
        "test_gone", "renamed check", "a@b.example", "2027-01-01"]
    assert [li.text() for li in dom.one(id="waivers-passing").all("li")] == [GRANTS]
    assert [li.text() for li in dom.one(id="waivers-expired").all("li")] == [EXPIRED]


def test_messages_show_literally_and_inject_nothing(rendered: tuple[Path, Node]) -> None:
    _, dom = rendered
    assert dom.all("script") == []
    assert not any(b.text() == "bold" for b in dom.all("b"))
    block = dom.one(id="failures").all("pre")[0]
    assert block.children == [BLOCK]
    assert "window.injected" not in dom.one("head").text()


def test_screenshot_is_a_rendered_page(rendered: tuple[Path, Node], tmp_path: Path) -> None:
    page, _ = rendered
    shot = Path(os.environ.get("RUNBOOK_CHECKS_SCREENSHOT") or tmp_path / "report-screenshot.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    _browse(page, tmp_path / "profile", f"--screenshot={shot.resolve()}", "--window-size=1280,2000",
            "--hide-scrollbars")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (1280, 2000)
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, "a blank page"
    assert image.getpixel((0, 0)) != FAILED_RED
    assert FAILED_RED in {colour for _, colour in image.getcolors(maxcolors=1 << 20) or []}


def test_the_page_fetches_nothing(rendered: tuple[Path, Node]) -> None:
    page, dom = rendered
    text = page.read_text()
    assert dom.all("link") == dom.all("img") == dom.all("script") == []
    assert not any(word in text for word in ("src=", "href=", "url(", "@import", "http://", "https://"))


def test_a_clean_run_reads_passed() -> None:
    result = _result()
    result["checks"] = [c for c in result["checks"] if c["status"] == "passed"]  # type: ignore[attr-defined]
    result.update(exit_status=0, waivers={}, counts={"passed": 2})
    tree = _Tree()
    tree.feed(html_report.render(result))
    assert tree.root.one(id="verdict").text() == "passed"
    assert tree.root.one(id="failing-by-severity").text() == "no failures"
    assert tree.root.one(id="failures").text() == "None."
    assert tree.root.all("details", class_="section") and not any(
        "open" in d.attrs for d in tree.root.all("details"))


def test_report_command_writes_beside_the_result_or_where_told(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "result-prod.json"
    source.write_text(json.dumps(_result()))
    assert cli.main(["report", str(source)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "result-prod.html")
    assert (tmp_path / "result-prod.html").read_text() == html_report.render(_result())
    assert cli.main(["report", str(source), "-o", str(tmp_path / "out" / "page.html")]) == 0
    assert (tmp_path / "out" / "page.html").is_file()


def test_report_command_refuses_what_is_not_a_result(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "junit.json"
    source.write_text(json.dumps({"format": "something/2"}))
    assert cli.main(["report", str(source)]) == 2
    assert capsys.readouterr().err == (f"runbook-checks report: {source}: not a runbook-checks-result/1 "
                                       "result (format: 'something/2')\n")
    assert not (tmp_path / "junit.html").exists()


def test_a_checks_time_reads_in_milliseconds_under_a_second() -> None:
    assert html_report._check_time(0.0123) == "12.3 ms"
    assert html_report._check_time(0.9999) == "999.9 ms"
    assert html_report._check_time(1.0) == "1.00 s"
    assert html_report._check_time(None) == ""
