"""`runbook-stack`: the reference stack (build, up, down, status, faults, inject, revert, compose)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from runbook_harness import compose, control, images, native, node_build
from runbook_harness.faults import FAULTS, fault
from runbook_harness.locking import StackLock
from runbook_harness.processes import StackError
from runbook_harness.state import StackState

DEFAULT_DIR = ".stack"
_ROOT = Path(__file__).resolve().parents[2]  # the checkout: docker-compose.test.yml and the sources


def _directory(args: argparse.Namespace) -> Path:
    return Path(args.dir or os.environ.get("RUNBOOK_CHECKS_STACK_DIR") or DEFAULT_DIR).resolve()


@contextlib.contextmanager
def _turn(directory: Path) -> Iterator[StackLock]:
    """Starting or stopping waits for a gate run that is doing either in the same directory."""
    lock = StackLock(directory)
    try:
        lock.begin()
        yield lock
    finally:
        lock.close()


def _state(directory: Path) -> StackState:
    state = StackState.load(directory)
    if state is None:
        raise StackError(f"no stack in {directory}: run `runbook-stack up` first")
    return state


def _print_status(state: StackState) -> bool:
    result = control.status(state)
    for name, running in result.items():
        print(f"  {name:<20} {'running' if running else 'DOWN':<8} {state.host}:{state.ports[name]}")
    return all(result.values())


def cmd_build(args: argparse.Namespace) -> int:
    print(f"Node apps built in {node_build.built()}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    directory = _directory(args)
    if args.kind == "native":
        native.require_binaries()  # before the directory (and its lock files) is made
    with _turn(directory):
        state = compose.up(directory, _ROOT) if args.kind == "compose" else native.up(directory)
    print(f"stack up in {directory}")
    return 0 if _print_status(state) else 1


def cmd_down(args: argparse.Namespace) -> int:
    directory = _directory(args)
    if not directory.is_dir():
        print(f"no stack in {directory}")
        return 0
    with _turn(directory) as lock:
        state = StackState.load(directory)
        kind = state.kind if state is not None else "native"
        stopped = compose.down(directory, _ROOT) if kind == "compose" else native.down(directory)
        lock.mark_autostarted(False)
    print("stack stopped" if stopped else f"no stack in {directory}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    return 0 if _print_status(_state(_directory(args))) else 1


def cmd_faults(args: argparse.Namespace) -> int:
    for item in FAULTS:
        print(f"{item.name:<32} {item.symptom:<18} {item.description}")
    return 0


def cmd_inject(args: argparse.Namespace) -> int:
    chosen = fault(args.name)
    chosen.inject(_state(_directory(args)))
    print(f"injected {chosen.name}: {chosen.description}")
    if chosen.gate_env:
        names = " ".join(f"{k}={v}" for k, v in chosen.gate_env.items())
        print(f"time-bound symptom: run the gate as `{names} pytest suites/local` to see it now")
    return 0


def cmd_revert(args: argparse.Namespace) -> int:
    chosen = fault(args.name)
    chosen.revert(_state(_directory(args)))
    print(f"reverted {chosen.name}")
    return 0


def cmd_base(args: argparse.Namespace) -> int:
    print(f"compose images build on {images.base_image()}")
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    sys.stdout.write(compose.render())
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="runbook-stack", description=__doc__)
    top.add_argument("--dir", help=f"stack directory (default: $RUNBOOK_CHECKS_STACK_DIR or {DEFAULT_DIR})")
    stack = top.add_subparsers(dest="cmd", required=True)
    stack.add_parser("build", help="build the Node apps (npm ci, next build), cached by a hash of "
                     "their sources").set_defaults(func=cmd_build)
    up = stack.add_parser("up", help="start the stack (kept if it already runs)")
    up.add_argument("--kind", choices=("native", "compose"), default="native")
    up.set_defaults(func=cmd_up)
    stack.add_parser("down", help="stop the stack").set_defaults(func=cmd_down)
    status = stack.add_parser("status", help="which services run (exit 1 if any is down)")
    status.set_defaults(func=cmd_status)
    stack.add_parser("faults", help="list the fault catalog").set_defaults(func=cmd_faults)
    for name, func in (("inject", cmd_inject), ("revert", cmd_revert)):
        sub = stack.add_parser(name, help=f"{name} one fault of the catalog")
        sub.add_argument("name")
        sub.set_defaults(func=func)
    stack.add_parser("base", help="the base the compose images build on: the public Debian image, or "
                     "one made once with debootstrap where none can be pulled").set_defaults(func=cmd_base)
    stack.add_parser("compose", help="print docker-compose.test.yml as the declaration renders it"
                     ).set_defaults(func=cmd_compose)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except StackError as error:
        print(f"runbook-stack: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("runbook-stack: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
