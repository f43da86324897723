"""Faults injected together where they cannot meet: faults of different systems, whose checks are
disjoint, share one gate run, which must then fail exactly the union of their checks. Faults of one
system are never grouped: they edit the same database, env files and scratch objects. Where a
group's run fails anything else, or an injection goes wrong, each of its faults is run again
alone, so a group never hides what a fault does by itself. Both stacks' fault tests run so
(test_faults.py, test_compose_faults.py), to get through the catalog in CI's time; natively,
RUNBOOK_CHECKS_FAULTS_ALONE=1 runs every fault alone instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runbook_harness import drivers
from runbook_harness.faults import Fault
from runbook_harness.state import StackState
from tests.gate_run import GateRun, run_gate

# A fault failing more checks than this reaches widely (a service stopped, sessions exhausted): it
# runs alone rather than make its group run again.
WIDE = 4


@dataclass
class Outcome:
    """What a fault's test judges: the run it was injected in, and the checks its group's other
    faults were expected to fail there (none when it ran alone)."""

    run: GateRun
    others: set[str] = field(default_factory=set)
    grouped_with: tuple[str, ...] = ()


@dataclass
class FaultGroups:
    """Runs each fault once, in a group where it can be. `expected(fault)` is the set of checks a
    fault must fail (None when it cannot be told before it runs), `symptom_of` each check's symptom
    id, and `alone(fault)` runs a fault by itself and returns its run."""

    order: Sequence[Fault]
    expected: Callable[[Fault], set[str] | None]
    symptom_of: dict[str, str]
    alone: Callable[[Fault], GateRun]
    stack: Callable[[], StackState]
    env: dict[str, str]
    directory: Path
    together: bool = True  # False: every fault runs alone
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    _checks: dict[str, set[str] | None] = field(default_factory=dict)  # expected(), asked once a fault

    def outcome(self, name: str) -> Outcome:
        if name not in self.outcomes:
            group = self._group_from(name)
            try:
                if len(group) > 1 and self._run_group(group):
                    return self.outcomes[name]
            except AssertionError:
                # a revert failed: its faults run alone from now on, so that one broken revert fails
                # its own test, not every group it would be drawn into
                self._checks.update(dict.fromkeys((item.name for item in group), None))
                raise
            for item in group:
                self.outcomes[item.name] = Outcome(self.alone(item))
        return self.outcomes[name]

    def _groupable(self, item: Fault) -> set[str] | None:
        """The fault's checks where it may share a run: it is written for every kind of stack (a
        compose-only fault redefines containers), and its checks are known and few."""
        if not self.together or "native" not in item.kinds:
            return None
        if item.name not in self._checks:
            self._checks[item.name] = self.expected(item)
        checks = self._checks[item.name]
        return checks if checks and len(checks) <= WIDE else None

    def _systems(self, item: Fault, checks: set[str]) -> set[str]:
        """The systems a fault touches: those of its symptoms and of the checks it fails."""
        return {symptom.split(".")[0] for symptom in (*item.symptoms, *map(self.symptom_of.get, checks))
                if symptom}

    def _group_from(self, name: str) -> list[Fault]:
        """`name` and the next faults not yet run of other systems, whose checks and gate variables
        it does not share."""
        first = next(f for f in self.order if f.name == name)
        taken = self._groupable(first)
        if taken is None:
            return [first]
        group, variables, systems = [first], dict(first.gate_env), self._systems(first, taken)
        for item in self.order:
            checks = self._groupable(item)
            if item.name in self.outcomes or item.name == name or checks is None:
                continue
            touched = self._systems(item, checks)
            if (checks & taken or touched & systems
                    or any(variables.get(k, v) != v for k, v in item.gate_env.items())):
                continue
            group.append(item)
            taken, systems = taken | checks, systems | touched
            variables |= item.gate_env
        return group

    def _run_group(self, group: list[Fault]) -> bool:
        """Injects the group, runs the gate once and reverts; True when the run failed exactly the
        group's checks and reverting made them pass again."""
        touched: list[Fault] = []
        half_done: str | None = None  # a fault whose injection failed: reverted as far as it goes
        try:
            with drivers.restarts_together(self.stack):
                for item in group:
                    touched.append(item)
                    half_done = item.name
                    item.inject(self.stack())
                    half_done = None
            variables = {k: v for item in group for k, v in item.gate_env.items()}
            run = run_gate("local", self.directory / "group.xml", {**self.env, **variables})
        except Exception as error:  # noqa: BLE001 - any failure sends the group's faults to run alone
            self.log.append(f"group {[f.name for f in group]}: {error}")
            return False
        finally:
            self._revert(touched, half_done)
        wanted = {item.name: self.expected(item) or set() for item in group}
        union = set().union(*wanted.values())
        if run.failed != union:
            self.log.append(f"group {list(wanted)}: failed {sorted(run.failed ^ union)} beyond or short of "
                            f"its checks")
            return False
        names = sorted({check.split("::", 1)[1].split("[", 1)[0] for check in union})
        after = run_gate("local", self.directory / "reverted.xml", self.env, ("-k", " or ".join(names)))
        if after.returncode != 0 or after.failed:
            raise AssertionError(f"group {list(wanted)} reverted, yet {after.failed}")
        for item in group:
            self.outcomes[item.name] = Outcome(run, union - wanted[item.name],
                                               tuple(f.name for f in group if f is not item))
        return True

    def _revert(self, touched: list[Fault], half_done: str | None) -> None:
        """Reverts every fault the group touched, last first, each whatever the others did; then
        raises the first revert that failed, naming its fault (but for the half-injected one's)."""
        failed: list[tuple[str, Exception]] = []
        with drivers.restarts_together(self.stack):
            for item in reversed(touched):
                try:
                    item.revert(self.stack())
                except Exception as error:  # noqa: BLE001 - the others are reverted all the same
                    if item.name == half_done:
                        self.log.append(f"reverting half-injected {item.name}: {error}")
                    else:
                        failed.append((item.name, error))
        if failed:
            name, error = failed[0]
            raise AssertionError(f"reverting {name} failed: {error}") from error

    def summary(self) -> list[str]:
        """How the faults were run: in how many shared runs, and the groups that ran again alone."""
        shared = {id(o.run) for o in self.outcomes.values() if o.grouped_with}
        alone = sum(1 for o in self.outcomes.values() if not o.grouped_with)
        grouped = len(self.outcomes) - alone
        return [f"{len(self.outcomes)} fault(s): {grouped} in {len(shared)} shared run(s), {alone} alone",
                *self.log]
