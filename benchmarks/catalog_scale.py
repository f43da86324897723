"""Catalog scale: a database with 10,000 tables and 30,000 indexes, checked three ways.

    python benchmarks/catalog_scale.py [--tables 10000] [--checks 50 500]

1. runbook-checks: a generated suite of N index checks (`pytest suites/bench`), which reads the
   catalog once per database however many checks there are;
2. the runbook way: one psql process and one catalog query per check;
3. pgTAP: the same N assertions (has_index) in one pg_prove run.

Prints wall time and queries sent for each, and the ratios. Starts its own throwaway cluster.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runbook_harness.postgres import NativePostgres, cluster_root
from runbook_harness.processes import free_port

BATCH = 500
_SUITE_HEAD = '''"""Generated: {count} index checks over the bench database."""

import pytest

from runbook_checks.checks import schema

pytestmark = [pytest.mark.runbook("bench#indexes"), pytest.mark.severity("low")]

'''
_CHECK = '''
def test_index_{i}(targets):
    schema.indexes_exist(targets.postgres("bench").catalog(), {{"t_{t}_a_idx": "t_{t}"}})
'''


def build_database(cluster: NativePostgres, tables: int) -> float:
    started = time.monotonic()
    with cluster.admin("postgres") as admin:
        admin.execute("CREATE DATABASE bench")
    with cluster.admin("bench") as bench:
        for low in range(1, tables + 1, BATCH):
            high = min(low + BATCH - 1, tables)
            bench.execute(  # type: ignore[arg-type]
                f"DO $$ BEGIN FOR i IN {low}..{high} LOOP "
                "EXECUTE format('CREATE TABLE t_%s (id int PRIMARY KEY, a int, b int)', i); "
                "EXECUTE format('CREATE INDEX t_%s_a_idx ON t_%s (a)', i, i); "
                "EXECUTE format('CREATE INDEX t_%s_b_idx ON t_%s (b)', i, i); "
                "END LOOP; END $$")
        bench.execute("CREATE EXTENSION pgtap")
        counts = bench.execute(
            "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'), "
            "(SELECT count(*) FROM pg_indexes WHERE schemaname = 'public')").fetchone()
    print(f"database: {counts[0]} tables, {counts[1]} indexes, built in {time.monotonic() - started:.0f} s")
    return time.monotonic() - started


def targets_of(count: int, tables: int) -> list[int]:
    step = max(1, tables // count)
    return [1 + (i * step) % tables for i in range(count)]


def write_project(root: Path, cluster: NativePostgres, count: int, tables: int) -> None:
    (root / "environments").mkdir(parents=True, exist_ok=True)
    (root / "suites" / "bench").mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\nrunbooks =\n    bench=not-a-file\n")
    (root / "environments" / "bench.yaml").write_text(
        "name: bench\npostgres:\n"
        f"  bench: {{dsn: 'postgresql://postgres@localhost:{cluster.port}/bench?host={cluster.socket_dir}'}}\n")
    body = _SUITE_HEAD.format(count=count) + "".join(
        _CHECK.format(i=i, t=t) for i, t in enumerate(targets_of(count, tables)))
    (root / "suites" / "bench" / "test_bench.py").write_text(body)


def run_runbook_checks(root: Path) -> tuple[float, int, int]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/bench", "-q", "-p", "no:cacheprovider",
                             "--junitxml", os.devnull], cwd=root, capture_output=True, text=True)
    seconds = time.monotonic() - started
    queries = re.search(r"postgres queries sent: (\d+)", result.stdout)
    passed = re.search(r"(\d+) passed", result.stdout)
    if result.returncode != 0 or not queries or not passed:
        raise SystemExit(f"the generated suite did not pass:\n{result.stdout[-3000:]}")
    return seconds, int(queries.group(1)), int(passed.group(1))


def run_psql_per_check(cluster: NativePostgres, count: int, tables: int) -> float:
    started = time.monotonic()
    for t in targets_of(count, tables):
        out = subprocess.run(
            ["psql", "-X", "-tA", "-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U", "postgres",
             "-d", "bench", "-c", "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' "
             f"AND tablename = 't_{t}' AND indexname = 't_{t}_a_idx'"],
            capture_output=True, text=True, check=True)
        if out.stdout.strip() != "1":
            raise SystemExit(f"psql did not find t_{t}_a_idx")
    return time.monotonic() - started


def run_pg_prove(cluster: NativePostgres, count: int, tables: int, directory: Path) -> float:
    script = directory / f"bench_{count}.sql"
    lines = [f"SELECT plan({count});"]
    # has_index(table, index): does the index exist, as the generated suite asks
    lines += [f"SELECT has_index('t_{t}', 't_{t}_a_idx');" for t in targets_of(count, tables)]
    lines.append("SELECT * FROM finish();")
    script.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    subprocess.run(["pg_prove", "-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U", "postgres",
                    "-d", "bench", str(script)], capture_output=True, text=True, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--checks", type=int, nargs="+", default=[50, 500])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rc-bench-"))
    cluster = NativePostgres(cluster_root(work), free_port())
    try:
        cluster.init()
        cluster.start()
        build_database(cluster, args.tables)
        print(f"{'checks':>6}  {'method':<28}{'wall s':>8}{'queries':>9}")
        for count in args.checks:
            project = work / f"project-{count}"
            write_project(project, cluster, count, args.tables)
            ours, queries, passed = run_runbook_checks(project)
            psql = run_psql_per_check(cluster, count, args.tables)
            prove = run_pg_prove(cluster, count, args.tables, work)
            print(f"{count:>6}  {'runbook-checks (pytest run)':<28}{ours:>8.2f}{queries:>9}")
            print(f"{count:>6}  {'one psql per check':<28}{psql:>8.2f}{count:>9}")
            print(f"{count:>6}  {'pgTAP via pg_prove':<28}{prove:>8.2f}{count:>9}")
            print(f"{'':>6}  ratio: psql / runbook-checks {psql / ours:.2f}x, "
                  f"pg_prove / runbook-checks {prove / ours:.2f}x ({passed} checks passed)")
    finally:
        cluster.stop()
        cluster.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
