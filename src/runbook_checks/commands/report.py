"""`runbook-checks report RESULT.json [-o OUT.html]`: a run's JSON result as one HTML page to read
offline (by default beside the result, with .html)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", type=Path, help="a run's result file (reports/result-<env>.json)")
    parser.add_argument("-o", "--output", type=Path,
                        help="the HTML file to write (default: RESULT with .html)")


def run(args: argparse.Namespace) -> int:
    """Writes the page and prints its path; a result that cannot be read is exit status 2."""
    import json

    from runbook_checks import html_report

    try:
        result = json.loads(args.result.read_text(encoding="utf-8"))
        if not isinstance(result, dict):
            raise ValueError("not a JSON object")
        output = args.output or args.result.with_suffix(".html")
        html_report.write(result, output)
    except (OSError, ValueError) as error:
        print(f"runbook-checks report: {args.result}: {error}", file=sys.stderr)
        return 2
    print(output)
    return 0
