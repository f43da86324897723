"""Which faults share a gate run (fault_batches.py): one of each system at
most, whose checks and gate variables are apart, few enough checks each, and none written for one
kind of stack."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from runbook_harness.faults import Fault
from runbook_harness.state import StackState
from tests.fault_batches import WIDE, FaultGroups, Outcome
from tests.gate_run import GateRun


def _nothing(state: StackState) -> None:
    """Stands for an injection: the grouping is decided before anything is injected."""


def made(name: str, symptom: str, env: dict[str, str] | None = None,
         kinds: tuple[str, ...] = ("native", "compose"), also: tuple[str, ...] = ()) -> Fault:
    return Fault(name, symptom, name, _nothing, _nothing, gate_env=env or {}, kinds=kinds, also=also)


def groups_of(faults: list[Fault], checks: dict[str, set[str] | None],
              symptom_of: dict[str, str] | None = None, together: bool = True) -> FaultGroups:
    def never(item: Fault) -> GateRun:
        raise AssertionError("no fault is run to decide a group")

    def no_stack() -> StackState:
        raise AssertionError("no stack is read to decide a group")

    return FaultGroups(faults, lambda item: checks[item.name], symptom_of or {}, never, no_stack, {},
                       Path("/nonexistent"), together)


def names(group: list[Fault]) -> list[str]:
    return [item.name for item in group]


def test_one_fault_of_each_system_shares_a_run_in_order() -> None:
    faults = [made("a", "one.1"), made("b", "one.2"), made("c", "two.1"), made("d", "three.1"),
              made("e", "two.2")]
    groups = groups_of(faults, {"a": {"A"}, "b": {"B"}, "c": {"C"}, "d": {"D"}, "e": {"E"}})
    assert names(groups._group_from("a")) == ["a", "c", "d"]
    assert names(groups._group_from("b")) == ["b", "c", "d"]


def test_the_systems_of_a_faults_checks_and_other_symptoms_count() -> None:
    faults = [made("a", "one.1"), made("b", "two.1"), made("c", "three.1", also=("one.4",)),
              made("d", "four.1")]
    checks = {"a": {"A"}, "b": {"B"}, "c": {"C"}, "d": {"D"}}
    groups = groups_of(faults, checks, {"A": "one.1", "B": "four.2", "C": "three.1", "D": "four.1"})
    assert names(groups._group_from("a")) == ["a", "b"]  # b fails a check of four, c shows one.4


def test_faults_sharing_a_check_are_apart() -> None:
    faults = [made("a", "one.1"), made("b", "two.1"), made("c", "three.1")]
    groups = groups_of(faults, {"a": {"A", "X"}, "b": {"X"}, "c": {"C"}})
    assert names(groups._group_from("a")) == ["a", "c"]


def test_faults_already_run_are_not_grouped_again() -> None:
    faults = [made("a", "one.1"), made("b", "two.1"), made("c", "three.1")]
    groups = groups_of(faults, {"a": {"A"}, "b": {"B"}, "c": {"C"}})
    groups.outcomes["b"] = Outcome(GateRun(1, "", "", 0.0, {}, {}, {}))
    assert names(groups._group_from("a")) == ["a", "c"]


def test_gate_variables_must_agree() -> None:
    faults = [made("a", "one.1", {"RC_X": "1"}), made("b", "two.1", {"RC_X": "2"}),
              made("c", "three.1", {"RC_X": "1", "RC_Y": "3"}), made("d", "four.1", {"RC_Y": "4"})]
    groups = groups_of(faults, {"a": {"A"}, "b": {"B"}, "c": {"C"}, "d": {"D"}})
    assert names(groups._group_from("a")) == ["a", "c"]  # b sets RC_X otherwise, d RC_Y after c


def test_wide_unknown_and_compose_only_faults_run_alone() -> None:
    faults = [made("wide", "one.1"), made("unknown", "two.1"), made("own", "three.1", kinds=("compose",)),
              made("a", "four.1"), made("b", "five.1"), made("at-limit", "six.1")]
    checks: dict[str, set[str] | None] = {
        "wide": {f"W{n}" for n in range(WIDE + 1)}, "unknown": None, "own": {"O"}, "a": {"A"}, "b": {"B"},
        "at-limit": {f"L{n}" for n in range(WIDE)}}
    groups = groups_of(faults, checks)
    for alone in ("wide", "unknown", "own"):
        assert names(groups._group_from(alone)) == [alone]
    assert names(groups._group_from("a")) == ["a", "b", "at-limit"]


def test_every_fault_runs_alone_when_asked() -> None:
    faults = [made("a", "one.1"), made("b", "two.1"), made("c", "three.1")]
    groups = groups_of(faults, {"a": {"A"}, "b": {"B"}, "c": {"C"}}, together=False)
    assert [names(groups._group_from(name)) for name in "abc"] == [["a"], ["b"], ["c"]]


def test_a_group_whose_revert_fails_leaves_its_faults_to_run_alone() -> None:
    def broken(state: StackState) -> None:
        raise RuntimeError("the server did not come back")

    # b's injection fails, so the group is reverted before any gate run, and a's revert fails
    faults = [Fault("a", "one.1", "a", _nothing, broken), Fault("b", "two.1", "b", broken, _nothing),
              made("c", "three.1")]
    checks: dict[str, set[str] | None] = {"a": {"A"}, "b": {"B"}, "c": {"C"}}
    groups = FaultGroups(faults, lambda item: checks[item.name], {},
                         lambda item: GateRun(1, "", "", 0, {}, {}, {}), lambda: cast(StackState, None), {},
                         Path("/nonexistent"))
    with pytest.raises(AssertionError, match="reverting a failed: the server did not come back"):
        groups.outcome("a")
    assert [names(groups._group_from(name)) for name in "abc"] == [["a"], ["b"], ["c"]]
