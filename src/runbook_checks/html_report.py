"""A run's JSON result (`reports/result-<env>.json`) as one self-contained HTML page: failures first,
then every check by system and runbook section, the waivers and their problems. Opens offline."""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from runbook_checks.results import FAILING, FORMAT, STATUSES
from runbook_checks.runbooks import SEVERITIES

# A result's statuses as the page counts them: the worst first.
WORST_FIRST = tuple(sorted(STATUSES, key=("failed", "error", "waived", "skipped", "passed").index))
_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}  # 0 is the worst

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2328;
     font:14px/1.5 "Liberation Sans","DejaVu Sans",system-ui,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0}
h3{font-size:14px;margin:16px 0 6px}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
code,pre{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12.5px;overflow-wrap:anywhere}
pre{margin:8px 0 0;padding:10px 12px;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;
    white-space:pre-wrap;overflow-wrap:anywhere}
header{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:18px 20px;
       border-left:8px solid var(--verdict)}
header.passed{--verdict:#1a7f37}
header.failed{--verdict:#b42318}
.headline{display:flex;align-items:center;gap:14px;flex-wrap:wrap}
.verdict{background:var(--verdict);color:#fff;font-weight:700;padding:3px 12px;border-radius:6px;
         letter-spacing:.04em}
.meta{display:flex;gap:22px;flex-wrap:wrap;margin-top:10px;color:#57606a}
.meta b{color:#1f2328;font-weight:600}
.counts{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
       white-space:nowrap}
.s-passed{background:#dafbe1;color:#116329}.s-failed{background:#ffebe9;color:#a40e26}
.s-error{background:#fbefff;color:#6e2d91}.s-skipped{background:#eaeef2;color:#57606a}
.s-waived{background:#fff8c5;color:#7d4e00}
.badge.zero{opacity:.45}
.v-critical{background:#b42318;color:#fff}.v-high{background:#e0600e;color:#fff}
.v-medium{background:#f5c04a;color:#3d2a00}.v-low{background:#d0d7de;color:#24292f}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;margin:10px 0}
.failure{border-left:5px solid #cf222e}
.failure.below{border-left-color:#d0d7de}
.failure .title{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.failure .where{color:#57606a;margin-top:4px}
.note{color:#57606a;font-size:12.5px;margin-top:6px}
.history span{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:2px;
              vertical-align:middle}
.history .passed{background:#2da44e}.history .failed,.history .error{background:#cf222e}
.history .skipped{background:#afb8c1}.history .waived{background:#d4a72c}
details{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:8px 0}
details details{border:none;border-top:1px solid #eaeef2;border-radius:0;margin:0}
summary{cursor:pointer;padding:8px 14px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
summary::before{content:"▸";color:#57606a;width:10px}
details[open]>summary::before{content:"▾"}
details.system>summary{font-weight:700;font-size:15px}
details.section>summary{padding-left:30px;font-weight:600}
summary .spacer{flex:1}
summary .muted{font-weight:400}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:5px 10px;border-top:1px solid #eaeef2;vertical-align:top}
th{font-size:12px;color:#57606a;font-weight:600;background:#f6f8fa}
details.section table{margin:0 0 8px;table-layout:fixed}
details.section th:nth-child(1){width:120px}details.section th:nth-child(2){width:100px}
details.section th:nth-child(3){width:130px}details.section th:nth-child(5){width:80px}
details.section td:first-child,details.section th:first-child{padding-left:30px}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
td .reason{color:#57606a;font-size:12.5px}
.muted{color:#57606a}
ul.card{list-style:none;padding:8px 16px}
ul.card li{padding:2px 0}
#severities{width:auto;min-width:640px}
"""


def render(result: dict[str, Any]) -> str:
    """The whole page; every value taken from the result is HTML-escaped."""
    if result.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} result (format: {result.get('format')!r})")
    checks: list[dict[str, Any]] = result.get("checks") or []
    body = [_header(result, checks), _failures(result, checks), _by_system(checks),
            _severity_table(checks), _waived(checks), _waiver_problems(result.get("waivers") or {}),
            _uncovered(result.get("coverage"))]
    title = f"runbook-checks: {result.get('environment', '?')} {_verdict(result)}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n"
            "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")


def write(result: dict[str, Any], path: Path) -> None:
    """Writes the page to `path` (UTF-8), creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")


def _e(value: object) -> str:
    """Any value as text safe inside an element or a quoted attribute; None as nothing."""
    return html.escape("" if value is None else str(value))


def _verdict(result: dict[str, Any]) -> str:
    """The gate's own verdict, read from its exit status."""
    return "passed" if result.get("exit_status") == 0 else "FAILED"


def _failing(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed and errored checks, worst severity first, in run order within a severity."""
    found = [c for c in checks if c.get("status") in FAILING]
    return sorted(found, key=lambda c: _rank(c.get("severity")))


def _rank(severity: object) -> int:
    """Where a severity sorts, worst first; an unknown one after all."""
    return _RANK.get(str(severity), len(SEVERITIES))


def _status(status: object) -> str:
    """A status as a coloured badge."""
    return f'<span class="badge s-{_e(status)}">{_e(status)}</span>'


def _severity(severity: object) -> str:
    """A severity as a coloured badge."""
    return f'<span class="badge v-{_e(severity)}">{_e(severity or "?")}</span>'


def _when(stamp: object) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM:SS UTC` when it is in UTC, else as written."""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.utcoffset() is not None and not moment.utcoffset():
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.isoformat(sep=" ")


def _duration(seconds: object) -> str:
    """Seconds as `12.3 s` or `2 min 5 s`."""
    if not isinstance(seconds, int | float):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _check_time(seconds: object) -> str:
    """A check's time: milliseconds under a second (most checks take a few), else seconds."""
    if not isinstance(seconds, int | float):
        return ""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _header(result: dict[str, Any], checks: list[dict[str, Any]]) -> str:
    """The verdict, the failures by severity, the fail-on threshold, when, how long, the counts."""
    verdict = _verdict(result)
    failing = Counter(c.get("severity") for c in _failing(checks))
    parts = [f"{failing[s]} {s}" for s in SEVERITIES if failing[s]]
    other = sum(n for s, n in failing.items() if s not in SEVERITIES)
    by_severity = ", ".join(parts + ([f"{other} of no severity"] if other else []))
    counts = result.get("counts") or Counter(c.get("status") for c in checks)
    pills = "".join(_status_count(s, counts.get(s, 0)) for s in WORST_FIRST)
    return (f'<header class="{"passed" if verdict == "passed" else "failed"}">'
            f'<div class="headline"><h1>runbook-checks: {_e(result.get("environment", "?"))}</h1>'
            f'<span class="verdict" id="verdict">{verdict}</span>'
            f'<span id="failing-by-severity">{_e(by_severity or "no failures")}</span></div>'
            f'<div class="meta"><span>started <b>{_e(_when(result.get("started_at")))}</b></span>'
            f'<span>took <b>{_e(_duration(result.get("duration_seconds")))}</b></span>'
            f'<span>fails on <b id="fail-on">{_e(result.get("fail_on", "?"))}</b> and worse</span>'
            f'<span>exit status <b>{_e(result.get("exit_status", "?"))}</b></span>'
            f'<span><b>{len(checks)}</b> checks</span></div>'
            f'<div class="counts" id="counts">{pills}</div></header>')


def _failures(result: dict[str, Any], checks: list[dict[str, Any]]) -> str:
    """A card per failed or errored check, worst first; `None.` for a clean run."""
    failing = _failing(checks)
    if not failing:
        return '<h2>Failures</h2><p class="muted" id="failures">None.</p>'
    fail_on = result.get("fail_on")
    cards = [_failure(check, fail_on) for check in failing]
    return f'<h2>Failures ({len(failing)})</h2><section id="failures">{"".join(cards)}</section>'


def _failure(check: dict[str, Any], fail_on: object) -> str:
    """One failure: severity, status, check id, section, symptom, its block and notes."""
    below = fail_on in SEVERITIES and _rank(check.get("severity")) > _rank(fail_on)
    notes = []
    if below:
        notes.append(f"below the fail-on threshold ({_e(fail_on)}): reported, does not fail the gate")
    waiver = check.get("waiver")
    if waiver:
        notes.append(f"waiver expired on {_e(waiver.get('expires'))} (owner {_e(waiver.get('owner'))}): "
                     f"{_e(waiver.get('justification'))}")
    if check.get("digest"):
        notes.append(f"digest <code>{_e(check['digest'])}</code>")
    if check.get("history"):
        notes.append(f"history {_history(check['history'])}")
    return (f'<article class="card failure{" below" if below else ""}" data-check="{_e(check.get("id"))}">'
            f'<div class="title">{_severity(check.get("severity"))}{_status(check.get("status"))}'
            f'<code class="check">{_e(check.get("id"))}</code></div>'
            f'<div class="where">{_e(check.get("system"))} › <b class="section">{_e(_section(check))}</b>'
            f' <span class="muted">({_e(check.get("runbook"))})</span> · symptom '
            f'<b class="symptom-id">{_e(check.get("symptom_id"))}</b> '
            f'“{_e(check.get("symptom"))}”</div>'
            f'<pre class="message">{_e(check.get("message"))}</pre>'
            + "".join(f'<div class="note">{note}</div>' for note in notes) + "</article>")


def _history(statuses: list[object]) -> str:
    """The check's statuses over recent runs as small coloured marks, oldest first."""
    marks = "".join(f'<span class="{_e(s)}" title="{_e(s)}"></span>' for s in statuses)
    return f'<span class="history" title="{_e(" → ".join(map(str, statuses)))}">{marks}</span>'


def _section(check: dict[str, Any]) -> str:
    """The runbook heading a check guards (its reference where the heading is unknown)."""
    return str(check.get("section") or check.get("runbook") or "(no runbook section)")


def _tally(checks: list[dict[str, Any]]) -> str:
    """A badge per status present among the checks, with its count."""
    counts = Counter(c.get("status") for c in checks)
    return "".join(_status_count(s, counts[s]) for s in WORST_FIRST if counts[s])


def _status_count(status: str, count: int) -> str:
    """A status badge with a count: `3 passed`."""
    return f'<span class="badge s-{status}{" zero" if not count else ""}">{count} {status}</span>'


def _by_system(checks: list[dict[str, Any]]) -> str:
    """<details> per system, then per runbook section (in run order); open where something failed."""
    systems: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for check in checks:
        sections = systems.setdefault(str(check.get("system") or "?"), {})
        sections.setdefault(_section(check), []).append(check)
    parts = []
    for system in sorted(systems):
        sections = systems[system]
        flat = [c for group in sections.values() for c in group]
        inner = "".join(_section_block(name, group) for name, group in sections.items())
        parts.append(f'<details class="system" data-system="{_e(system)}"{_open(flat)}>'
                     f'<summary>{_e(system)}<span class="spacer"></span>{_tally(flat)}</summary>'
                     f"{inner}</details>")
    return f'<h2>Checks by system and runbook section</h2><section id="systems">{"".join(parts)}</section>'


def _open(checks: list[dict[str, Any]]) -> str:
    """The `open` attribute of a <details> that holds a failure."""
    return " open" if any(c.get("status") in FAILING for c in checks) else ""


def _section_block(name: str, checks: list[dict[str, Any]]) -> str:
    """A runbook section's checks as a folding table."""
    rows = "".join(_row(c) for c in checks)
    return (f'<details class="section" data-section="{_e(name)}"{_open(checks)}>'
            f'<summary>{_e(name)} <span class="muted">{_e(checks[0].get("runbook"))}</span>'
            f'<span class="spacer"></span>{_tally(checks)}</summary>'
            "<table><tr><th>status</th><th>severity</th><th>symptom</th><th>check</th>"
            f'<th class="num">time</th></tr>{rows}</table></details>')


def _row(check: dict[str, Any]) -> str:
    """One check; a skip or waiver shows its reason under the name."""
    status, message = check.get("status"), check.get("message")
    reason = f'<div class="reason">{_e(message)}</div>' if status in ("skipped", "waived") and message else ""
    name = str(check.get("id", "")).split("::", 1)[-1]
    seconds = check.get("duration_seconds")
    took = _check_time(seconds)
    return (f'<tr data-check="{_e(check.get("id"))}" data-status="{_e(status)}"><td>{_status(status)}</td>'
            f'<td>{_severity(check.get("severity"))}</td><td>{_e(check.get("symptom_id"))}</td>'
            f'<td><code title="{_e(check.get("id"))}">{_e(name)}</code>{reason}</td>'
            f'<td class="num">{took}</td></tr>')


def _severity_table(checks: list[dict[str, Any]]) -> str:
    """Checks counted by severity and status, with each severity's total."""
    counts = Counter((c.get("severity"), c.get("status")) for c in checks)
    rows = []
    for severity in (*SEVERITIES, *sorted({str(c.get("severity")) for c in checks} - set(SEVERITIES))):
        cells = "".join(f'<td class="num">{counts[severity, s] or ""}</td>' for s in WORST_FIRST)
        total = sum(counts[severity, s] for s in WORST_FIRST)
        rows.append(f'<tr data-severity="{_e(severity)}"><td>{_severity(severity)}</td>{cells}'
                    f'<td class="num">{total}</td></tr>')
    head = "".join(f'<th class="num">{s}</th>' for s in WORST_FIRST)
    return (f'<h2>By severity</h2><table class="card" id="severities"><tr><th>severity</th>{head}'
            f'<th class="num">total</th></tr>{"".join(rows)}</table>')


def _waived(checks: list[dict[str, Any]]) -> str:
    """The waived checks with justification, owner and expiry; `None.` when there are none."""
    waived = [c for c in checks if c.get("status") == "waived"]
    if not waived:
        return '<h2>Waived</h2><p class="muted" id="waived">None.</p>'
    rows = "".join(f'<tr data-check="{_e(c.get("id"))}"><td><code>{_e(c.get("id"))}</code></td>'
                   f'<td>{_severity(c.get("severity"))}</td>{_waiver_cells(c.get("waiver") or {})}</tr>'
                   for c in waived)
    return (f'<h2>Waived ({len(waived)})</h2><table class="card" id="waived"><tr><th>check</th>'
            f"<th>severity</th><th>justification</th><th>owner</th><th>expires</th></tr>{rows}</table>")


def _waiver_cells(waiver: dict[str, Any]) -> str:
    """A waiver's justification, owner and expiry as table cells."""
    return (f'<td>{_e(waiver.get("justification"))}</td><td>{_e(waiver.get("owner"))}</td>'
            f'<td>{_e(waiver.get("expires"))}</td>')


def _waiver_problems(waivers: dict[str, Any]) -> str:
    """Waivers that name no check, waive a check that passes, or have expired."""
    unmatched = waivers.get("unmatched") or []
    passing, expired = waivers.get("passing") or [], waivers.get("expired") or []
    if not (unmatched or passing or expired):
        return '<h2>Waiver problems</h2><p class="muted" id="waiver-problems">None.</p>'
    parts = []
    if unmatched:
        rows = "".join(f'<tr data-check="{_e(w.get("check"))}"><td><code>{_e(w.get("check"))}</code></td>'
                       f"{_waiver_cells(w)}</tr>" for w in unmatched)
        parts.append('<h3>Naming no check of this run</h3><table class="card" id="waivers-unmatched">'
                     "<tr><th>check</th><th>justification</th><th>owner</th><th>expires</th></tr>"
                     f"{rows}</table>")
    for key, title in (("passing", "Waiving a check that passes"), ("expired", "Expired")):
        ids = waivers.get(key) or []
        if ids:
            items = "".join(f"<li><code>{_e(i)}</code></li>" for i in ids)
            parts.append(f'<h3>{title}</h3><ul class="card" id="waivers-{key}">{items}</ul>')
    return f'<h2>Waiver problems</h2><section id="waiver-problems">{"".join(parts)}</section>'


def _uncovered(coverage: dict[str, Any] | None) -> str:
    """The runbook sections no check of this run guards (a result without coverage shows none)."""
    if not coverage:
        return ""
    headings = {s.get("section"): s.get("heading") for s in coverage.get("sections") or []}
    uncovered = coverage.get("uncovered") or []
    items = "".join(f"<li><code>{_e(ref)}</code> {_e(headings.get(ref) or '')}</li>" for ref in uncovered)
    total = len(headings)
    return (f"<h2>Runbook sections without a check here ({len(uncovered)} of {total})</h2>"
            + (f'<ul class="card" id="uncovered">{items}</ul>' if uncovered
               else '<p class="muted" id="uncovered">None: every section is guarded.</p>'))
