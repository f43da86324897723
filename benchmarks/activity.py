"""The activity assertions against check_postgres, on the same throwaway cluster.

    python benchmarks/activity.py [--runs 5]

Three assertions a pager rota runs every minute: no query running longer than 5 minutes, no
session idle in a transaction longer than 1 minute, connections under 80% of max_connections.
- check_postgres: one process per action (query_time, txn_idle, backends), as Nagios runs them;
- runbook-checks: the same three as declared checks (`postgres.no_long_query`,
  `postgres.no_long_idle_session`, `postgres.value`) in one gate run, which reads the activity once,
  as a production install runs it (benchmarks/installed_pytest.py: `pip install .` in a virtual
  environment of its own).
Prints the median wall time of each over --runs runs (the gate's with the bytecode cache warm and
cold, as installed_pytest.py says) and the ratio. Starts its own cluster, with a
few idle sessions held open so that there is activity to read.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import installed_pytest
import psycopg
from bytecode_cache import COLD, WARM

from runbook_harness.postgres import NativePostgres, cluster_root
from runbook_harness.processes import free_port

ACTIONS = (("query_time", "300 seconds"), ("txn_idle", "60 seconds"), ("backends", "80%"))
_RUNBOOK = "# Bench\n\n## Activity\n\nSlow queries, stuck transactions, connection headroom.\n"
_CHECKS = """checks:
  no_long_query:
    runbook: bench#activity
    severity: high
    symptom_id: bench.1
    symptom: queries pile up
    assert: postgres.no_long_query
    with: {database: bench}
  no_idle_in_transaction:
    runbook: bench#activity
    severity: high
    symptom_id: bench.1
    symptom: locks held by a forgotten transaction
    assert: postgres.no_long_idle_session
    with: {database: bench, state: idle in transaction}
  connection_headroom:
    runbook: bench#activity
    severity: high
    symptom_id: bench.1
    symptom: too many clients
    assert: postgres.value
    with:
      database: bench
      name: connections in use (% of max_connections)
      sql: SELECT count(*) * 100 / current_setting('max_connections')::int FROM pg_stat_activity
      condition: <= 80
      fix: find the client that holds them, or raise max_connections
"""


def write_project(root: Path, cluster: NativePostgres) -> None:
    (root / "environments").mkdir(parents=True)
    (root / "suites" / "common").mkdir(parents=True)
    (root / "bench.md").write_text(_RUNBOOK)
    (root / "pytest.ini").write_text("[pytest]\nrunbooks =\n    bench=bench.md\n")
    (root / "environments" / "bench.yaml").write_text(
        "name: bench\npostgres:\n"
        f"  bench: {{dsn: 'postgresql://postgres@localhost:{cluster.port}/bench?host={cluster.socket_dir}'}}\n")
    (root / "suites" / "common" / "bench.yaml").write_text(_CHECKS)


def gate_once(root: Path, cache: str = WARM) -> float:
    seconds, done = installed_pytest.timed(["suites/bench"], root, cache)
    if done.returncode != 0 or "3 passed" not in done.stdout:
        raise SystemExit(f"the gate did not pass its 3 checks ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def check_postgres_once(cluster: NativePostgres) -> float:
    started = time.perf_counter()
    for action, warning in ACTIONS:
        done = subprocess.run(["check_postgres", f"--action={action}", f"--warning={warning}",
                               "-H", str(cluster.socket_dir), "-p", str(cluster.port), "-u", "postgres",
                               "--db", "bench"], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SystemExit(f"check_postgres {action} did not say OK: {done.stdout}{done.stderr}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rc-activity-") as work:
        cluster = NativePostgres(cluster_root(Path(work)), free_port())
        cluster.init()
        cluster.start()
        try:
            with cluster.admin("postgres") as admin:
                admin.execute("CREATE DATABASE bench")
            held = [psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user="postgres",
                                    dbname="bench") for _ in range(5)]
            write_project(Path(work) / "project", cluster)
            gate_once(Path(work) / "project")  # bytecode written, disk cache filled
            ours = statistics.median(gate_once(Path(work) / "project") for _ in range(args.runs))
            cold = statistics.median(gate_once(Path(work) / "project", COLD) for _ in range(args.runs))
            theirs = statistics.median(check_postgres_once(cluster) for _ in range(args.runs))
            for connection in held:
                connection.close()
        finally:
            cluster.stop()
            cluster.remove()
    print(f"3 activity assertions, median of {args.runs} runs:")
    print(f"  runbook-checks (one gate run, one activity read):  {ours:6.3f} s")
    print(f"  the same, bytecode cache cold:                     {cold:6.3f} s")
    print(f"  check_postgres (one process per action):          {theirs:6.3f} s")
    print(f"  ratio: check_postgres / runbook-checks {theirs / ours:.2f}x (cache cold: {theirs / cold:.2f}x)")


if __name__ == "__main__":
    main()
